import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './limits.js';
import { JsonRejectedError, parseJson } from './parse.js';

/** Key of the parsed request JSON in `ctx.body.parsed`. */
export const JSON_BODY_KEY = 'json';

/**
 * Reads and parses the request body as hardened JSON once per request; later callers get the
 * cached value from `ctx.body.parsed.get('json')`. Refuses with `payload_too_large` past
 * `limits.maxBodyBytes` and with `validation_failed` (400, `errors: [{in: 'body', pointer,
 * message}]`) for anything the hardened parser rejects. An absent body reads as `undefined`.
 */
export async function readJson(
  ctx: RequestContext,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): Promise<unknown> {
  if (ctx.body.parsed.has(JSON_BODY_KEY)) return ctx.body.parsed.get(JSON_BODY_KEY);
  const buffer = await ctx.body.read(limits.maxBodyBytes);
  if (buffer.length === 0) return undefined;
  const value = parseJsonBody(buffer, limits);
  ctx.body.parsed.set(JSON_BODY_KEY, value);
  return value;
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
