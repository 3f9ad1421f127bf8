import type { JsonLimits } from '../json/limits.js';
import { JSON_BODY_KEY, JSON_LIMITS_KEY, parseJsonBody } from '../json/read-json.js';
import type { RequestContext } from '../pipeline/context.js';

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

/**
 * Reads the JSON request body once per request with the shared hardened parser and `limits` (duplicate keys,
 * `__proto__`, depth and size limits refused) and shares it under `ctx.body.parsed.get('json')`.
 */
export async function readJsonBody(ctx: RequestContext, limits: JsonLimits): Promise<JsonBody> {
  const body = ctx.body;
  if (body.parsed.has(JSON_BODY_KEY)) {
    const value = body.parsed.get(JSON_BODY_KEY);
    return value === undefined ? NONE : { kind: 'json', value };
  }
  if (!body.present) return NONE;
  if (!isJsonMediaType(body.mediaType)) return OTHER;
  const bytes = await body.read(limits.maxBodyBytes);
  if (bytes.length === 0) return NONE;
  const value = parseJsonBody(bytes, limits);
  body.parsed.set(JSON_BODY_KEY, value);
  // request validation (readJson) reuses the value when its limits are no stricter than these
  body.parsed.set(JSON_LIMITS_KEY, limits);
  return { kind: 'json', value };
}
