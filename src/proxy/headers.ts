import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus legacy ones that must never be forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Names listed in `Connection` are hop-by-hop too. */
export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const tokens = new Set<string>();
  for (const token of joined.split(',')) {
    const t = token.trim().toLowerCase();
    if (t) tokens.add(t);
  }
  return tokens;
}

/**
 * Copies end-to-end request headers for the upstream: drops hop-by-hop headers, those named by
 * `Connection`, HTTP/2 pseudo-headers, `host` (set by the caller) and any in `drop`.
 */
export function endToEndRequestHeaders(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string>,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.charCodeAt(0) === 58 /* : */ || name === 'host' || HOP_BY_HOP.has(name)) continue;
    if (named?.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Copies end-to-end response headers for the client. */
export function endToEndResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}
