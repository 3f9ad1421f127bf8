import { GatewayError } from '../errors/gateway-error.js';
import { FORBIDDEN_KEYS } from '../json/scan.js';
import type { JsonLimits } from '../json/limits.js';
import { readJson } from '../json/read-json.js';
import type { RequestContext } from '../pipeline/context.js';
import { accepts, producedMediaTypes } from './accept.js';
import { addField } from './form-fields.js';
import { readMultipart } from './multipart.js';
import { findMediaType, isJsonMediaType } from './media-type.js';
import type { OperationMatch } from './operation-context.js';
import {
  declaredQueryNames,
  decodeComponent,
  ParameterFormatError,
  readCookieParameter,
  readHeaderParameter,
  readPathParameter,
  readQueryParameter,
  splitCookies,
  splitQuery,
} from './parameters.js';
import type { CompiledApi, CompiledMediaType, CompiledOperation, CompiledParameter } from './types.js';
import { addViolation, fromAjv, validationFailed, type Violation } from './violations.js';

export interface RequestValidatorOptions {
  readonly strict: boolean;
  readonly limits: JsonLimits;
}

interface OperationPlan {
  readonly queryNames: ReadonlySet<string>;
  readonly queryPrefixes: readonly string[];
  /** Success media types, for `Accept` checks in strict mode. */
  readonly produces: readonly string[];
  /** Names of array-typed properties per form media type (repeated fields collect into arrays). */
  readonly formArrays: ReadonlyMap<CompiledMediaType, ReadonlySet<string>>;
}

/** Form and multipart parse results are shared under these keys in `ctx.body.parsed`. */
export const FORM_BODY_KEY = 'form';

/**
 * Validates one request against its matched operation: parameters in every location (styles and
 * explode, coerced to their declared types; in strict mode unknown query names refused and
 * primitives sent twice refused), then the body by media type. Collects violations across
 * locations and throws one `validation_failed` problem; 415 for undeclared media types.
 */
export function createRequestValidator(
  api: CompiledApi,
  options: RequestValidatorOptions,
): (ctx: RequestContext, match: OperationMatch) => void | Promise<void> {
  const plans = new Map<CompiledOperation, OperationPlan>();
  for (const operation of api.operations) plans.set(operation, planFor(operation));

  return (ctx, match) => {
    const operation = match.operation;
    const plan = plans.get(operation) as OperationPlan;
    if (options.strict && plan.produces.length > 0 && !accepts(ctx.header('accept'), plan.produces)) {
      throw new GatewayError('not_acceptable', {
        reason: 'openapi_not_acceptable',
        detail: `this operation produces: ${plan.produces.join(', ')}`,
      });
    }
    const violations: Violation[] = [];
    validateParameters(ctx, match, plan, options.strict, violations);
    const body = operation.requestBody;
    if (body === undefined) {
      if (options.strict && ctx.body.present) {
        addViolation(violations, { in: 'body', pointer: '', message: 'a request body is not allowed' });
      }
      if (violations.length > 0) throw refuse(ctx, violations, 'openapi_request');
      return;
    }
    if (!ctx.body.present) {
      if (body.required)
        addViolation(violations, { in: 'body', pointer: '', message: 'a request body is required' });
      if (violations.length > 0) throw refuse(ctx, violations, 'openapi_request');
      return;
    }
    const media = findMediaType(body.content, ctx.body.mediaType);
    if (media === undefined) {
      const declared = body.content.map((m) => m.mediaRange).join(', ');
      const method = operation.method;
      throw new GatewayError('unsupported_media_type', {
        reason: 'openapi_undeclared_media_type',
        detail: `expected one of: ${declared}`,
        ...(method === 'POST' || method === 'PATCH'
          ? { headers: { [method === 'POST' ? 'accept-post' : 'accept-patch']: declared } }
          : {}),
      });
    }
    // Parameters failed already: refuse before reading the body.
    if (violations.length > 0) throw refuse(ctx, violations, 'openapi_request');
    return validateBody(ctx, media, plan, options, violations);
  };
}

/** The problem to throw; the first violations (locations and messages, never values) go to the access log. */
function refuse(ctx: RequestContext, violations: readonly Violation[], reason: string): GatewayError {
  ctx.logFields.validationErrors = violations.slice(0, 5);
  return validationFailed(violations, reason);
}

function planFor(operation: CompiledOperation): OperationPlan {
  const { names, prefixes } = declaredQueryNames(operation.parameters.query);
  const formArrays = new Map<CompiledMediaType, ReadonlySet<string>>();
  for (const media of operation.requestBody?.content ?? []) {
    const arrays = new Set<string>();
    const schema = media.schema;
    if (typeof schema === 'object' && typeof schema.properties === 'object' && schema.properties !== null) {
      for (const [name, sub] of Object.entries(schema.properties as Record<string, unknown>)) {
        const type = (sub as { type?: unknown } | null)?.type;
        if (type === 'array' || (Array.isArray(type) && type.includes('array'))) arrays.add(name);
      }
    }
    formArrays.set(media, arrays);
  }
  return { queryNames: names, queryPrefixes: prefixes, produces: producedMediaTypes(operation), formArrays };
}

function validateParameters(
  ctx: RequestContext,
  match: OperationMatch,
  plan: OperationPlan,
  strict: boolean,
  violations: Violation[],
): void {
  const { parameters, parameterValidators } = match.operation;

  if (parameterValidators.path !== undefined) {
    const values = collect(parameters.path, 'path', violations, (p) => {
      const raw = match.rawParams[p.name];
      return raw === undefined ? undefined : readPathParameter(p, raw);
    });
    if (!parameterValidators.path(values)) fromAjv('path', parameterValidators.path.errors, violations);
  }

  if (parameterValidators.query !== undefined || (strict && ctx.query.length > 0)) {
    let query;
    try {
      query = splitQuery(ctx.query);
    } catch (error) {
      if (!(error instanceof ParameterFormatError)) throw error;
      addViolation(violations, { in: 'query', pointer: '', message: error.message });
      query = new Map<string, string[]>();
    }
    if (strict) {
      for (const name of query.keys()) {
        if (plan.queryNames.has(name) || plan.queryPrefixes.some((prefix) => name.startsWith(prefix)))
          continue;
        addViolation(violations, { in: 'query', pointer: '/' + escape(name), message: 'is not declared' });
      }
    }
    if (parameterValidators.query !== undefined) {
      const values = collect(parameters.query, 'query', violations, (p) => readQueryParameter(p, query));
      if (!parameterValidators.query(values)) fromAjv('query', parameterValidators.query.errors, violations);
    }
  }

  if (parameterValidators.header !== undefined) {
    const values = collect(parameters.header, 'header', violations, (p) =>
      readHeaderParameter(p, ctx.header(p.name)),
    );
    if (!parameterValidators.header(values)) fromAjv('header', parameterValidators.header.errors, violations);
  }

  if (parameterValidators.cookie !== undefined) {
    const cookies = splitCookies(ctx.header('cookie'));
    const values = collect(parameters.cookie, 'cookie', violations, (p) => readCookieParameter(p, cookies));
    if (!parameterValidators.cookie(values)) fromAjv('cookie', parameterValidators.cookie.errors, violations);
  }
}

function collect(
  parameters: readonly CompiledParameter[],
  location: Violation['in'],
  violations: Violation[],
  read: (parameter: CompiledParameter) => unknown,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const parameter of parameters) {
    try {
      let value = read(parameter);
      if (value === undefined) continue;
      if (parameter.contentType !== undefined && isJsonMediaType(parameter.contentType))
        value = parseParameterJson(value as string);
      values[parameter.name] = value;
    } catch (error) {
      if (!(error instanceof ParameterFormatError)) throw error;
      addViolation(violations, {
        in: location,
        pointer: '/' + escape(parameter.name),
        message: error.message,
      });
    }
  }
  return values;
}

function parseParameterJson(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ParameterFormatError('forbidden member name');
      return value;
    });
  } catch (error) {
    if (error instanceof ParameterFormatError) throw error;
    throw new ParameterFormatError('is not valid JSON');
  }
}

async function validateBody(
  ctx: RequestContext,
  media: CompiledMediaType,
  plan: OperationPlan,
  options: RequestValidatorOptions,
  violations: Violation[],
): Promise<void> {
  const mediaType = ctx.body.mediaType ?? '';
  if (isJsonMediaType(mediaType)) {
    const value = await readJson(ctx, options.limits);
    if (media.validate !== undefined && !media.validate(value))
      fromAjv('body', media.validate.errors, violations);
  } else if (mediaType === 'application/x-www-form-urlencoded') {
    const buffer = await ctx.body.read(options.limits.maxBodyBytes);
    const value = readForm(buffer.toString('utf8'), plan.formArrays.get(media) ?? new Set(), violations);
    ctx.body.parsed.set(FORM_BODY_KEY, value);
    const validate = media.validateCoercing;
    if (validate !== undefined && violations.length === 0 && !validate(value))
      fromAjv('body', validate.errors, violations);
  } else if (mediaType === 'multipart/form-data') {
    const buffer = await ctx.body.read(options.limits.maxBodyBytes);
    const value = await readMultipart(
      buffer,
      ctx.header('content-type') ?? '',
      options.limits.multipart,
      plan.formArrays.get(media) ?? new Set(),
      violations,
      media.partContentTypes,
      options.limits,
    );
    ctx.body.parsed.set(FORM_BODY_KEY, value);
    const validate = media.validateCoercing;
    if (validate !== undefined && violations.length === 0 && !validate(value))
      fromAjv('body', validate.errors, violations);
  }
  // Other declared media types (text, binary) are accepted by type; their bytes are not parsed.
  if (violations.length > 0) throw refuse(ctx, violations, 'openapi_request_body');
}

function readForm(
  text: string,
  arrays: ReadonlySet<string>,
  violations: Violation[],
): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  if (text.length === 0) return value;
  for (const pair of text.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    let name: string;
    let field: string;
    try {
      name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), true);
      field = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1), true);
    } catch (error) {
      if (!(error instanceof ParameterFormatError)) throw error;
      addViolation(violations, { in: 'body', pointer: '', message: error.message });
      continue;
    }
    addField(value, name, field, arrays, violations);
  }
  return value;
}

function escape(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
