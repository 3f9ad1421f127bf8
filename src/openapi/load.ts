import { bundle, compileErrors, dereference, validate } from '@readme/openapi-parser';

/** A parsed, validated and dereferenced OpenAPI 3.0/3.1 document. */
export interface LoadedDocument {
  readonly file: string;
  readonly document: Record<string, unknown>;
  readonly dialect: '3.0' | '3.1';
}

/** Thrown for documents that cannot be read, are not OpenAPI 3.x, or fail validation. */
export class OpenApiLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpenApiLoadError';
  }
}

/**
 * Reads a local OpenAPI document (external `$ref`s to local files are followed, network `$ref`s
 * are not), validates it against the OpenAPI schema and dereferences it. Circular `$ref`s stay as
 * object cycles; schema conversion turns them back into `$ref`s for Ajv.
 */
export async function loadDocument(file: string): Promise<LoadedDocument> {
  const options = {
    resolve: { file: true, external: true, http: { timeout: 1, redirects: 0 } },
    dereference: { circular: true },
    timeoutMs: 30_000,
  } as const;
  // Files are read and parsed once (bundle: external $refs become internal ones); validation
  // works on a copy because it dereferences in place.
  let bundled: Record<string, unknown>;
  try {
    bundled = (await bundle(file, options)) as unknown as Record<string, unknown>;
  } catch (error) {
    throw new OpenApiLoadError(`cannot load OpenAPI document ${file}: ${(error as Error).message}`);
  }
  let result;
  try {
    result = await validate(structuredClone(bundled) as never, options);
  } catch (error) {
    throw new OpenApiLoadError(`cannot load OpenAPI document ${file}: ${(error as Error).message}`);
  }
  if (!result.valid) {
    throw new OpenApiLoadError(`invalid OpenAPI document ${file}:\n${compileErrors(result)}`);
  }
  let document: Record<string, unknown>;
  try {
    document = (await dereference(bundled as never, options)) as unknown as Record<string, unknown>;
  } catch (error) {
    throw new OpenApiLoadError(`cannot dereference OpenAPI document ${file}: ${(error as Error).message}`);
  }
  const version = typeof document.openapi === 'string' ? document.openapi : '';
  if (version.startsWith('3.0.')) return { file, document, dialect: '3.0' };
  if (version.startsWith('3.1.')) return { file, document, dialect: '3.1' };
  throw new OpenApiLoadError(
    `${file} is not an OpenAPI 3.0 or 3.1 document (openapi: ${JSON.stringify(version)})`,
  );
}
