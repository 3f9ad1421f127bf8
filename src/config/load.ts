import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { interpolate, type SecretResolver } from './interpolate.js';
import { buildConfigSchema } from './schema.js';
import type { GatewayConfig } from './types.js';
import { loadStageDefinitions } from '../stages/registry.js';

export interface LoadedConfig {
  readonly file: string;
  readonly configDir: string;
  readonly config: GatewayConfig;
  /** Maps a JSON pointer to its line/column in the file, when known. */
  locate(pointer: string): { line: number; column: number } | undefined;
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly resolveSecret?: SecretResolver;
  /** Use this text instead of reading `file` (tests, stdin). */
  readonly text?: string;
}

/** Parses a YAML/JSON file without validation (CLI commands that only need a section). */
export function readConfigDocument(file: string, text?: string): { doc: Document; lines: LineCounter } {
  const source = text ?? readSource(file);
  const lines = new LineCounter();
  const doc = parseDocument(source, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: true,
    strict: true,
  });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          pointer: '',
          message: `cannot parse: ${e.message.split('\n')[0]}`,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
        };
      }),
    );
  }
  return { doc, lines };
}

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      { pointer: '', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'}` },
    ]);
  }
}

function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

let validatorPromise: Promise<(data: unknown) => ErrorObject[] | null> | undefined;

async function schemaValidator(): Promise<(data: unknown) => ErrorObject[] | null> {
  validatorPromise ??= (async () => {
    const schema = buildConfigSchema(await loadStageDefinitions());
    const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    return (data: unknown) => (validate(data) ? null : (validate.errors ?? []));
  })();
  return validatorPromise;
}

/** Loads, interpolates and validates a config file. Throws ConfigError listing every problem. */
export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const absolute = resolve(file);
  const configDir = dirname(absolute);
  const { doc, lines } = readConfigDocument(absolute, options.text);
  const locate = (pointer: string) => {
    const path = pointerToPath(pointer);
    let node: unknown;
    for (let n = path.length; n >= 0; n--) {
      node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) break;
      node = undefined;
    }
    if (!isNode(node) || !node.range) return undefined;
    const pos = lines.linePos(node.range[0]);
    return { line: pos.line, column: pos.col };
  };
  const withLocation = (issue: ConfigIssue): ConfigIssue => {
    if (issue.line !== undefined) return issue;
    const at = locate(issue.pointer);
    return at ? { ...issue, line: at.line, column: at.column } : issue;
  };

  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(absolute, [
      withLocation({ pointer: '', message: 'expected a mapping at the top level' }),
    ]);
  }
  const interpolated = await interpolate(raw, configDir, options.env ?? process.env, options.resolveSecret);
  if (interpolated.issues.length > 0) throw new ConfigError(absolute, interpolated.issues.map(withLocation));

  const validate = await schemaValidator();
  const errors = validate(interpolated.value);
  if (errors) {
    throw new ConfigError(absolute, simplifyErrors(errors).map(withLocation));
  }
  return { file: absolute, configDir, config: interpolated.value as GatewayConfig, locate };
}

/** Turns Ajv errors into one readable issue per place, dropping `oneOf`/`anyOf` noise. */
function simplifyErrors(errors: readonly ErrorObject[]): ConfigIssue[] {
  const issues = new Map<string, ConfigIssue>();
  for (const error of errors) {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf' || error.keyword === 'if') continue;
    let pointer = error.instancePath;
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties': {
        const extra = (error.params as { additionalProperty: string }).additionalProperty;
        pointer = `${pointer}/${extra}`;
        message = `unknown property "${extra}"`;
        break;
      }
      case 'required':
        message = `missing required property "${(error.params as { missingProperty: string }).missingProperty}"`;
        break;
      case 'enum':
        message = `expected one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        message = `expected ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case 'type':
        message = `expected ${(error.params as { type: string }).type}`;
        break;
      case 'not':
        message = 'combination of properties is not allowed (e.g. both `path` and `pathPrefix`)';
        break;
      default:
        message = error.message ?? 'invalid value';
    }
    const key = `${pointer}\u0000${message}`;
    if (!issues.has(key)) issues.set(key, { pointer, message });
  }
  return [...issues.values()];
}
