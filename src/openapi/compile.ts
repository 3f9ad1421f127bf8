import type { ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { createAjv } from './ajv.js';
import type { LoadedDocument } from './load.js';
import { PathMatcher } from './path-matcher.js';
import { SchemaConverter } from './schema-convert.js';
import type {
  CompiledApi,
  CompiledMediaType,
  CompiledOperation,
  CompiledParameter,
  CompiledResponse,
  OperationsByMethod,
  ParameterLocation,
  ParameterShape,
  ParameterStyle,
  SchemaNode,
  SecurityRequirement,
} from './types.js';

export interface CompileOptions {
  /** Request schemas reject undeclared properties (see schema-convert.ts). */
  readonly strict: boolean;
}

type Obj = Record<string, unknown>;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const LOCATIONS: readonly ParameterLocation[] = ['path', 'query', 'header', 'cookie'];
const IGNORED_HEADER_PARAMETERS = new Set(['accept', 'content-type', 'authorization']);
let documentCounter = 0;
const NO_PART_TYPES: ReadonlyMap<string, readonly string[]> = new Map();

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compiles a loaded document: every schema converted and compiled once, operations indexed. */
export function compileApi(loaded: LoadedDocument, options: CompileOptions): CompiledApi {
  const id = ++documentCounter;
  const base = { dialect: loaded.dialect } as const;
  const requestConverter = new SchemaConverter({
    ...base,
    direction: 'request',
    strict: options.strict,
    defsId: `urn:portcullis:openapi:${id}:request`,
  });
  const paramConverter = new SchemaConverter({
    ...base,
    direction: 'request',
    strict: options.strict,
    defsId: `urn:portcullis:openapi:${id}:param`,
  });
  const responseConverter = new SchemaConverter({
    ...base,
    direction: 'response',
    strict: true,
    defsId: `urn:portcullis:openapi:${id}:response`,
  });
  const converters = [requestConverter, paramConverter, responseConverter];
  const jobs: (() => void)[] = [];
  const bodyAjv = createAjv({ coerceTypes: false });
  const coercingAjv = createAjv({ coerceTypes: true });
  // Identical schemas (shared components, the same path parameter on many operations) compile once.
  const compiled = new Map<string, ValidateFunction>();
  const compile = (ajv: Ajv2020, schema: SchemaNode): ValidateFunction => {
    const key = (ajv === bodyAjv ? 'b' : 'c') + JSON.stringify(schema);
    let validate = compiled.get(key);
    if (validate === undefined) {
      validate = ajv.compile(schema as object);
      compiled.set(key, validate);
    }
    return validate;
  };
  /** Defers compiling until every schema is converted and the `$defs` tables are complete. */
  const later = <T>(make: () => T): { value: T | undefined } => {
    const slot: { value: T | undefined } = { value: undefined };
    jobs.push(() => {
      slot.value = make();
    });
    return slot;
  };

  const doc = loaded.document;
  const globalSecurity = readSecurity(doc.security) ?? [];
  const paths = isObj(doc.paths) ? doc.paths : {};
  const matcher = new PathMatcher<Map<string, CompiledOperation>>();
  const pending: { template: string; method: string; build: () => CompiledOperation }[] = [];

  for (const [template, pathItemValue] of Object.entries(paths)) {
    if (!isObj(pathItemValue)) continue;
    const pathItem = pathItemValue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObj(operation)) continue;
      const parameterSlots = mergeParameters(pathItem.parameters, operation.parameters).map((raw) => {
        const schema = isObj(raw.schema)
          ? paramConverter.convert(raw.schema)
          : contentSchema(raw, paramConverter);
        return { schema, parameter: toParameter(raw, schema) };
      });
      const locationSlots = Object.fromEntries(
        LOCATIONS.map((location) => {
          const properties: Record<string, SchemaNode> = {};
          const required: string[] = [];
          for (const { parameter, schema } of parameterSlots) {
            if (parameter?.in !== location) continue;
            properties[parameter.name] = schema ?? {};
            if (parameter.required) required.push(parameter.name);
          }
          if (Object.keys(properties).length === 0) return [location, { value: undefined }];
          const locationSchema = { type: 'object', properties, required };
          return [location, later(() => compile(coercingAjv, locationSchema))];
        }),
      ) as Record<ParameterLocation, { value: ValidateFunction | undefined }>;
      const body = isObj(operation.requestBody) ? operation.requestBody : undefined;
      const bodySlots = isObj(body?.content)
        ? Object.entries(body.content).map(([range, media]) => {
            const schemaValue = isObj(media) ? media.schema : undefined;
            const schema =
              schemaValue === undefined ? undefined : requestConverter.convert(schemaValue as SchemaNode);
            const strictSlot = later(() => (schema === undefined ? undefined : compile(bodyAjv, schema)));
            const formRange = range.toLowerCase();
            const isForm =
              formRange.startsWith('application/x-www-form-urlencoded') || formRange.startsWith('multipart/');
            const coercing = later(() =>
              schema === undefined || !isForm ? undefined : compile(coercingAjv, schema),
            );
            return { range: formRange, schema, strictSlot, coercing, partTypes: partContentTypes(media) };
          })
        : [];
      const responseSlots = isObj(operation.responses)
        ? Object.entries(operation.responses).map(([status, response]) => {
            const content = isObj(response) && isObj(response.content) ? response.content : {};
            return {
              status: status.toUpperCase(),
              media: Object.entries(content).map(([range, media]) => {
                const schemaValue = isObj(media) ? media.schema : undefined;
                const schema =
                  schemaValue === undefined
                    ? undefined
                    : responseConverter.convert(schemaValue as SchemaNode);
                return {
                  range: range.toLowerCase(),
                  schema,
                  slot: later(() => (schema === undefined ? undefined : compile(bodyAjv, schema))),
                };
              }),
            };
          })
        : [];
      pending.push({
        template,
        method: method.toUpperCase(),
        build: () => {
          const parameters: Record<ParameterLocation, CompiledParameter[]> = {
            path: [],
            query: [],
            header: [],
            cookie: [],
          };
          for (const { parameter } of parameterSlots) {
            if (parameter !== undefined) parameters[parameter.in].push(parameter);
          }
          const responses: CompiledResponse[] = responseSlots.map((response) => ({
            status: response.status,
            content: response.media.map((media): CompiledMediaType => ({
              mediaRange: media.range,
              schema: media.schema,
              validate: media.slot.value,
              validateCoercing: undefined,
              partContentTypes: NO_PART_TYPES,
            })),
          }));
          return Object.freeze({
            operationId: typeof operation.operationId === 'string' ? operation.operationId : undefined,
            method: method.toUpperCase(),
            pathTemplate: template,
            tags: Array.isArray(operation.tags)
              ? operation.tags.filter((tag) => typeof tag === 'string')
              : [],
            summary: typeof operation.summary === 'string' ? operation.summary : undefined,
            parameters,
            parameterValidators: {
              path: locationSlots.path.value,
              query: locationSlots.query.value,
              header: locationSlots.header.value,
              cookie: locationSlots.cookie.value,
            },
            security: readSecurity(operation.security) ?? globalSecurity,
            privileged: operation['x-portcullis-privileged'] === true,
            deprecated: operation.deprecated === true,
            requestBody:
              body === undefined
                ? undefined
                : {
                    required: body.required === true,
                    content: bodySlots.map((media): CompiledMediaType => ({
                      mediaRange: media.range,
                      schema: media.schema,
                      validate: media.strictSlot.value,
                      validateCoercing: media.coercing.value,
                      partContentTypes: media.partTypes,
                    })),
                  },
            responses,
            raw: operation,
          });
        },
      });
    }
  }

  for (const converter of converters) {
    if (Object.keys(converter.defs).length === 0) continue;
    const holder = { $id: converter.defsId, $defs: converter.defs };
    bodyAjv.addSchema(holder);
    coercingAjv.addSchema(holder);
  }
  for (const job of jobs) job();

  const operations: CompiledOperation[] = [];
  const operationsById = new Map<string, CompiledOperation>();
  const byTemplate = new Map<string, Map<string, CompiledOperation>>();
  for (const item of pending) {
    const operation = item.build();
    operations.push(operation);
    if (operation.operationId !== undefined) operationsById.set(operation.operationId, operation);
    let methods = byTemplate.get(item.template);
    if (methods === undefined) {
      methods = new Map();
      byTemplate.set(item.template, methods);
      matcher.add(item.template, methods);
    }
    methods.set(item.method, operation);
  }

  const info = isObj(doc.info) ? doc.info : {};
  const components = isObj(doc.components) ? doc.components : {};
  return {
    file: loaded.file,
    openapi: String(doc.openapi),
    title: typeof info.title === 'string' ? info.title : '',
    version: typeof info.version === 'string' ? info.version : '',
    operations,
    operationsById,
    securitySchemes: (isObj(components.securitySchemes) ? components.securitySchemes : {}) as Record<
      string,
      Record<string, unknown>
    >,
    globalSecurity,
    serverBasePath: serverBasePath(doc.servers),
    matcher: matcher as PathMatcher<OperationsByMethod>,
    document: doc,
    resolveRef: (ref) => {
      for (const converter of converters) {
        const found = converter.resolve(ref);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}

function partContentTypes(media: unknown): ReadonlyMap<string, readonly string[]> {
  if (!isObj(media) || !isObj(media.encoding)) return NO_PART_TYPES;
  const out = new Map<string, readonly string[]>();
  for (const [name, encoding] of Object.entries(media.encoding)) {
    if (!isObj(encoding) || typeof encoding.contentType !== 'string') continue;
    out.set(
      name,
      encoding.contentType.split(',').map((range) => range.split(';', 1)[0]?.trim().toLowerCase() ?? ''),
    );
  }
  return out;
}

function mergeParameters(pathLevel: unknown, operationLevel: unknown): Obj[] {
  const merged = new Map<string, Obj>();
  for (const list of [pathLevel, operationLevel]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      if (!isObj(raw) || typeof raw.name !== 'string' || typeof raw.in !== 'string') continue;
      merged.set(`${raw.in}:${raw.in === 'header' ? raw.name.toLowerCase() : raw.name}`, raw);
    }
  }
  return [...merged.values()];
}

function contentSchema(raw: Obj, converter: SchemaConverter): SchemaNode | undefined {
  if (!isObj(raw.content)) return undefined;
  const first = Object.values(raw.content)[0];
  return isObj(first) && first.schema !== undefined ? converter.convert(first.schema) : undefined;
}

function toParameter(raw: Obj, schema: SchemaNode | undefined): CompiledParameter | undefined {
  const location = raw.in as ParameterLocation;
  if (!LOCATIONS.includes(location)) return undefined;
  const name = location === 'header' ? (raw.name as string).toLowerCase() : (raw.name as string);
  if (location === 'header' && IGNORED_HEADER_PARAMETERS.has(name)) return undefined;
  const style = (
    typeof raw.style === 'string'
      ? raw.style
      : location === 'query' || location === 'cookie'
        ? 'form'
        : 'simple'
  ) as ParameterStyle;
  const explode = typeof raw.explode === 'boolean' ? raw.explode : style === 'form';
  const rawSchema = isObj(raw.schema) ? raw.schema : undefined;
  const contentType = isObj(raw.content) ? Object.keys(raw.content)[0]?.toLowerCase() : undefined;
  return {
    name,
    in: location,
    required: location === 'path' || raw.required === true,
    style,
    explode,
    shape: contentType === undefined ? shapeOf(rawSchema) : 'primitive',
    propertyNames:
      rawSchema !== undefined && isObj(rawSchema.properties) ? Object.keys(rawSchema.properties) : [],
    contentType,
    schema,
  };
}

/** The broad shape of a parameter schema: its `type` (first non-null entry), or what its keywords imply. */
export function shapeOf(schema: Obj | undefined): ParameterShape {
  if (schema === undefined) return 'primitive';
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('array')) return 'array';
  if (types.includes('object')) return 'object';
  if (schema.type === undefined) {
    if (schema.items !== undefined) return 'array';
    if (schema.properties !== undefined || schema.additionalProperties !== undefined) return 'object';
    for (const keyword of ['allOf', 'oneOf', 'anyOf'] as const) {
      const list = schema[keyword];
      if (Array.isArray(list)) {
        for (const sub of list) {
          const shape = isObj(sub) ? shapeOf(sub) : 'primitive';
          if (shape !== 'primitive') return shape;
        }
      }
    }
  }
  return 'primitive';
}

function readSecurity(value: unknown): SecurityRequirement[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(isObj).map((requirement) => {
    const out: Record<string, readonly string[]> = {};
    for (const [scheme, scopes] of Object.entries(requirement)) {
      out[scheme] = Array.isArray(scopes) ? scopes.filter((scope) => typeof scope === 'string') : [];
    }
    return Object.freeze(out);
  });
}

function serverBasePath(servers: unknown): string {
  if (!Array.isArray(servers) || !isObj(servers[0]) || typeof servers[0].url !== 'string') return '';
  const server = servers[0];
  const variables = isObj(server.variables) ? server.variables : {};
  const url = (server.url as string).replace(/\{([^{}]+)\}/g, (_, name: string) => {
    const variable = variables[name];
    return isObj(variable) && typeof variable.default === 'string' ? variable.default : '';
  });
  let path: string;
  try {
    path = new URL(url, 'http://placeholder.invalid').pathname;
  } catch {
    return '';
  }
  return path.replace(/\/+$/, '');
}
