import type { IncomingHttpHeaders } from 'node:http';
import { util as undiciUtil } from 'undici';

/** Raw header name to lower-case string; well-known names come interned from undici's trie. */
const headerName = undiciUtil.headerNameToString as (name: Buffer | string) => string;

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

/** Headers only a trusted proxy may set; dropped from untrusted peers' requests. */
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
]);

/**
 * Copies end-to-end request headers for the upstream: drops hop-by-hop headers, those named by
 * `Connection`, HTTP/2 pseudo-headers, `host`, `x-request-id`, `traceparent` and `tracestate`
 * (all set by the caller), forwarding headers unless the peer is a trusted proxy, and any in
 * `drop`. Copying without them is cheaper than deleting afterwards (deletes turn the object
 * into a slow dictionary that undici then iterates).
 */
export function endToEndRequestHeaders(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string>,
  trustedPeer: boolean,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(name) || SET_BY_GATEWAY.has(name)) continue;
    if (!trustedPeer && FORWARDING.has(name)) continue;
    if (named?.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

const SET_BY_GATEWAY = new Set(['host', 'x-request-id', 'traceparent', 'tracestate']);

/**
 * End-to-end response headers from undici's raw list: names lower-cased, repeated names as
 * arrays, hop-by-hop headers and those named by `Connection` dropped.
 */
export function endToEndResponseHeaders(raw: readonly Buffer[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let connection: string | string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i]!);
    const value = raw[i + 1]!.toString('latin1');
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') connection = connection === undefined ? value : [connection, value].flat();
      continue;
    }
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior, value];
  }
  const named = connectionTokens(connection);
  if (named) for (const name of named) delete out[name];
  return out;
}
