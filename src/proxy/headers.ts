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
 * Why these lists are flat `[name, value, ...]` arrays and not objects: an object built with
 * whatever names a request or an upstream brings changes shape with each of them, and V8 adds
 * such properties on its slow runtime path (about 4 000 instructions each, measured with
 * bench/icount.ts). undici and node:http both take flat lists as they are.
 */

/**
 * End-to-end request headers for the upstream as a flat list: drops hop-by-hop headers, those
 * named by `Connection`, HTTP/2 pseudo-headers, `host`, `x-request-id`, `traceparent` and
 * `tracestate` (all set by the caller), forwarding headers unless the peer is a trusted proxy,
 * any in `drop`, and any `setLater` (the caller appends its own value after).
 */
export function endToEndRequestHeaderList(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string>,
  trustedPeer: boolean,
  setLater: (name: string) => boolean,
): string[] {
  const named = connectionTokens(headers.connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(name) || SET_BY_GATEWAY.has(name)) continue;
    if (!trustedPeer && FORWARDING.has(name)) continue;
    if (named?.has(name) || drop.has(name) || setLater(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (let i = 0; i < value.length; i++) out.push(name, value[i]!);
  }
  return out;
}

const SET_BY_GATEWAY = new Set(['host', 'x-request-id', 'traceparent', 'tracestate']);

/**
 * End-to-end response headers from undici's raw list as a flat list in the upstream's order,
 * for node:http's writeHead: hop-by-hop headers, those named by `Connection` and any `skip`
 * (set by the gateway) dropped.
 */
export function endToEndResponseHeaderList(
  raw: readonly Buffer[],
  skip: (name: string) => boolean,
): string[] {
  const out: string[] = [];
  let connection: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i]!);
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') (connection ??= []).push(raw[i + 1]!.toString('latin1'));
      continue;
    }
    if (skip(name)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  const named = connectionTokens(connection?.length === 1 ? connection[0] : connection);
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
  return kept;
}

const KEEP_ALL = (): boolean => false;

/**
 * End-to-end response headers from undici's raw list as an object (for response stages): names
 * lower-cased, repeated names as arrays, hop-by-hop headers and those named by `Connection`
 * dropped.
 */
export function endToEndResponseHeaders(raw: readonly Buffer[]): Record<string, string | string[]> {
  return headerListToRecord(endToEndResponseHeaderList(raw, KEEP_ALL));
}

/**
 * A flat `[name, value, ...]` list as an object, repeated names as arrays in their order. The
 * object has no prototype: `__proto__` is a valid header name, and an upstream that sends it is
 * an ordinary member here rather than a prototype assignment.
 */
export function headerListToRecord(list: readonly string[]): Record<string, string | string[]> {
  const record = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const prior = record[name];
    if (prior === undefined) record[name] = list[i + 1]!;
    else if (Array.isArray(prior)) prior.push(list[i + 1]!);
    else record[name] = [prior, list[i + 1]!];
  }
  return record;
}
