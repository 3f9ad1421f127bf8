import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';

/** Key under which the parsed JSON request body is shared between stages (parsed once). */
export const JSON_BODY_KEY = 'json';

export type JsonBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown }
  /** A body that is not JSON: rules that need body values cannot hold. */
  | { readonly kind: 'other' };

const NONE: JsonBody = { kind: 'none' };
const OTHER: JsonBody = { kind: 'other' };

export function isJsonMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && (mediaType === 'application/json' || mediaType.endsWith('+json'));
}

/** Reads and parses the JSON request body once per request, up to `limit` bytes. */
export async function readJsonBody(ctx: RequestContext, limit: number): Promise<JsonBody> {
  const body = ctx.body;
  if (body.parsed.has(JSON_BODY_KEY)) return { kind: 'json', value: body.parsed.get(JSON_BODY_KEY) };
  if (!body.present) return NONE;
  if (!isJsonMediaType(body.mediaType)) return OTHER;
  const bytes = await body.read(limit);
  if (bytes.length === 0) return NONE;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new GatewayError('bad_request', {
      detail: 'The request body is not valid JSON.',
      reason: 'invalid_json',
      cause: error,
    });
  }
  body.parsed.set(JSON_BODY_KEY, value);
  return { kind: 'json', value };
}
