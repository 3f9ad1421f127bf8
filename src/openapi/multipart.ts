import busboy from 'busboy';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../json/limits.js';
import { JsonRejectedError, parseJson } from '../json/parse.js';
import { addField } from './form-fields.js';
import { isJsonMediaType } from './media-type.js';
import { addViolation, type Violation } from './violations.js';

export interface MultipartLimits {
  readonly maxParts: number;
  readonly maxPartBytes: number;
}

/**
 * Parses a buffered multipart/form-data body with busboy into an object for validation: text
 * fields as strings, file parts as their bytes in a latin1 string (one character per byte, so
 * `maxLength` counts bytes). More than `maxParts` parts, or a part over `maxPartBytes`, is a
 * violation. Repeated fields become arrays only where the schema declares an array. Parts named
 * in the media type's `encoding` with a `contentType` must have one of those media types. JSON
 * parts are parsed with the hardened JSON parser.
 */
export function readMultipart(
  body: Buffer,
  contentType: string,
  limits: MultipartLimits,
  arrays: ReadonlySet<string>,
  violations: Violation[],
  partTypes: ReadonlyMap<string, readonly string[]> = new Map(),
  jsonLimits: JsonLimits = DEFAULT_JSON_LIMITS,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const value: Record<string, unknown> = {};
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: {
          parts: limits.maxParts,
          fields: limits.maxParts,
          files: limits.maxParts,
          fieldSize: limits.maxPartBytes,
          fileSize: limits.maxPartBytes,
          fieldNameSize: 200,
          headerPairs: 20,
        },
      });
    } catch {
      addViolation(violations, {
        in: 'body',
        pointer: '',
        message: 'malformed multipart/form-data (boundary)',
      });
      resolve(value);
      return;
    }
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve(value);
    };
    let counted = false;
    const tooMany = (): void => {
      if (!counted)
        addViolation(violations, { in: 'body', pointer: '', message: `more than ${limits.maxParts} parts` });
      counted = true;
    };
    const typeAllowed = (name: string, mimeType: string): boolean => {
      const allowed = partTypes.get(name);
      if (
        allowed === undefined ||
        allowed.some((range) => mediaRangeMatches(range, mimeType.toLowerCase()))
      ) {
        return true;
      }
      addViolation(violations, {
        in: 'body',
        pointer: '/' + name,
        message: 'part media type is not allowed',
      });
      return false;
    };
    // JSON parts (the OpenAPI default for object and array properties) are parsed, hardened.
    const addPart = (name: string, mimeType: string, content: string | Buffer): void => {
      if (!isJsonMediaType(mimeType.toLowerCase())) {
        addField(value, name, content.toString(), arrays, violations);
        return;
      }
      try {
        addField(value, name, parseJson(content, jsonLimits), arrays, violations);
      } catch (error) {
        if (!(error instanceof JsonRejectedError)) throw error;
        addViolation(violations, { in: 'body', pointer: `/${name}${error.pointer}`, message: error.message });
      }
    };
    parser.on('field', (name, text, info) => {
      if (!typeAllowed(name, info.mimeType)) return;
      if (info.valueTruncated) {
        addViolation(violations, {
          in: 'body',
          pointer: '/' + name,
          message: `part larger than ${limits.maxPartBytes} bytes`,
        });
        return;
      }
      addPart(name, info.mimeType, text);
    });
    parser.on('file', (name, stream, info) => {
      if (!typeAllowed(name, info.mimeType)) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () =>
        addViolation(violations, {
          in: 'body',
          pointer: '/' + name,
          message: `part larger than ${limits.maxPartBytes} bytes`,
        }),
      );
      stream.on('close', () => {
        if (!(stream as unknown as { truncated?: boolean }).truncated) {
          const bytes = Buffer.concat(chunks);
          addPart(
            name,
            info.mimeType,
            isJsonMediaType(info.mimeType.toLowerCase()) ? bytes : bytes.toString('latin1'),
          );
        }
      });
    });
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', () => {
      addViolation(violations, { in: 'body', pointer: '', message: 'malformed multipart/form-data' });
      finish();
    });
    parser.on('close', finish);
    parser.end(body);
  });
}

function mediaRangeMatches(range: string, mediaType: string): boolean {
  if (range === '*/*' || range === mediaType) return true;
  return range.endsWith('/*') && mediaType.startsWith(range.slice(0, -1));
}
