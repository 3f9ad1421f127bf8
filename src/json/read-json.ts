import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './limits.js';
import { JsonRejectedError, parseJson } from './parse.js';

/** Key of the parsed request JSON in `ctx.body.parsed`. */
export const JSON_BODY_KEY = 'json';
/** Key of the limits the cached value was checked against. */
export const JSON_LIMITS_KEY = 'json.limits';

/**
 * Reads and parses the request body as hardened JSON once per request; later callers get the
 * cached value from `ctx.body.parsed.get('json')`. Refuses with `payload_too_large` past
 * `limits.maxBodyBytes` and with `validation_failed` (400, `errors: [{in: 'body', pointer,
 * message}]`) for anything the hardened parser rejects. An absent body reads as `undefined`.
 * When the cached value was parsed by another caller under different (or unknown) limits, the
 * buffered text is checked again against these limits, so a looser earlier reader cannot
 * weaken a route's configured limits.
 */
export async function readJson(
  ctx: RequestContext,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): Promise<unknown> {
  const parsed = ctx.body.parsed;
  if (parsed.has(JSON_BODY_KEY)) {
    const checked = parsed.get(JSON_LIMITS_KEY) as JsonLimits | undefined;
    if (checked !== undefined && !looser(checked, limits)) return parsed.get(JSON_BODY_KEY);
    const buffer = await ctx.body.read(limits.maxBodyBytes);
    if (buffer.length > limits.maxBodyBytes)
      throw new GatewayError('payload_too_large', { reason: 'json_body_size' });
    if (buffer.length > 0) parseJsonBody(buffer, limits);
    parsed.set(JSON_LIMITS_KEY, limits);
    return parsed.get(JSON_BODY_KEY);
  }
  const buffer = await ctx.body.read(limits.maxBodyBytes);
  if (buffer.length === 0) return undefined;
  const value = parseJsonBody(buffer, limits);
  parsed.set(JSON_BODY_KEY, value);
  parsed.set(JSON_LIMITS_KEY, limits);
  return value;
}

/** What `cachedJson` returns when there is no usable cached value. */
export const NOT_CACHED: unique symbol = Symbol('not cached');

/**
 * The value `readJson(ctx, limits)` would return, without a promise, when an earlier reader
 * already parsed the body under limits at least as strict as these; otherwise NOT_CACHED (call
 * readJson then).
 */
export function cachedJson(ctx: RequestContext, limits: JsonLimits): unknown {
  const parsed = ctx.body.parsed;
  if (!parsed.has(JSON_BODY_KEY)) return NOT_CACHED;
  const checked = parsed.get(JSON_LIMITS_KEY) as JsonLimits | undefined;
  if (checked === undefined || looser(checked, limits)) return NOT_CACHED;
  return parsed.get(JSON_BODY_KEY);
}

function looser(checked: JsonLimits, wanted: JsonLimits): boolean {
  return (
    checked.maxBodyBytes > wanted.maxBodyBytes ||
    checked.maxDepth > wanted.maxDepth ||
    checked.maxArrayLength > wanted.maxArrayLength ||
    checked.maxStringLength > wanted.maxStringLength ||
    checked.maxObjectKeys > wanted.maxObjectKeys ||
    (checked.unsafeNumbers === 'allow' && wanted.unsafeNumbers === 'reject')
  );
}

/** parseJson that throws the client-facing `validation_failed` GatewayError. */
export function parseJsonBody(buffer: Buffer, limits: JsonLimits): unknown {
  try {
    return parseJson(buffer, limits);
  } catch (error) {
    if (!(error instanceof JsonRejectedError)) throw error;
    throw new GatewayError('validation_failed', {
      reason: error.reason,
      extensions: { errors: [{ in: 'body', pointer: error.pointer, message: error.message }] },
    });
  }
}
