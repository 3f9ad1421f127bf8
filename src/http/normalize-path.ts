import { GatewayError } from '../errors/gateway-error.js';

export interface NormalizeOptions {
  /** Keep `;` inside segments as literal characters (default: refuse them). */
  readonly allowSemicolons?: boolean;
}

export interface NormalizedTarget {
  /** Normalised path: what routing matches and what is forwarded. */
  readonly path: string;
  /** Raw query string without `?` (may be empty). */
  readonly query: string;
}

const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')
  UNRESERVED[c.charCodeAt(0)] = 1;

/** Characters allowed verbatim in a path (RFC 3986 pchar + `/`), excluding `%` handled separately. */
const PATH_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/")
  PATH_CHAR[c.charCodeAt(0)] = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(reason: string): never {
  throw new GatewayError('bad_path', { reason });
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Normalises a request target exactly once, before routing. The result is both what routing
 * matches and what the upstream receives, so the two can never disagree.
 *
 * - only origin-form targets (`/path?query`);
 * - `%XX` of unreserved characters decoded (so `%2e%2e` is `..`), other escapes upper-cased;
 * - encoded `/`, `\`, NUL and other control characters, invalid or overlong UTF-8: refused;
 * - raw `\`, control characters, `#` and (by default) `;`: refused;
 * - `%20` at the start or end of a segment (trimmed by some frameworks): refused;
 * - `//` collapsed, `.` and `..` segments removed; `..` above the root: refused.
 */
export function normalizeTarget(target: string, options: NormalizeOptions = {}): NormalizedTarget {
  if (target.length === 0 || target.charCodeAt(0) !== 47 /* / */) refuse('target_not_origin_form');
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c === 35 /* # */) refuse('bad_query_character');
  }
  return { path: normalizePath(rawPath, options), query };
}

export function normalizePath(rawPath: string, options: NormalizeOptions = {}): string {
  let needsWork = false;
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c >= 128 || PATH_CHAR[c] !== 1) {
      if (c === 37 /* % */) {
        needsWork = true;
        continue;
      }
      refuse(c === 92 ? 'backslash_in_path' : 'bad_path_character');
    }
    if (c === 59 /* ; */ && options.allowSemicolons !== true) refuse('semicolon_in_path');
    if (c === 46 /* . */ || (c === 47 && rawPath.charCodeAt(i + 1) === 47)) needsWork = true;
  }
  if (!needsWork) return rawPath;
  const decoded = decodeUnreserved(rawPath);
  // Frameworks that trim segments would read `/admin%20` as `/admin`: refuse edge whitespace.
  if (EDGE_SPACE.test(decoded)) refuse('whitespace_at_segment_edge');
  return removeDotSegments(decoded);
}

const EDGE_SPACE = /(?:^|\/)%20|%20(?:\/|$)/;

function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  let out = '';
  let i = 0;
  while (i < path.length) {
    const c = path.charCodeAt(i);
    if (c !== 37) {
      out += path[i];
      i++;
      continue;
    }
    // Collect a run of escapes so multi-byte UTF-8 sequences can be validated as a whole.
    const bytes: number[] = [];
    while (i < path.length && path.charCodeAt(i) === 37) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) refuse('bad_percent_encoding');
      bytes.push(hi * 16 + lo);
      i += 3;
    }
    const hasHigh = bytes.some((b) => b >= 0x80);
    if (hasHigh) {
      try {
        utf8.decode(Uint8Array.from(bytes));
      } catch {
        refuse('invalid_utf8');
      }
    }
    for (const b of bytes) {
      if (b < 0x20 || b === 0x7f) refuse('encoded_control_character');
      if (b === 0x2f) refuse('encoded_slash');
      if (b === 0x5c) refuse('encoded_backslash');
      if (b < 0x80 && UNRESERVED[b] === 1) out += String.fromCharCode(b);
      else if (b === 0x3b) refuse('encoded_semicolon');
      else out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
    }
  }
  return out;
}

function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  let trailingSlash = false;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i] as string;
    if (segment === '') {
      if (i === last) trailingSlash = true;
      continue;
    }
    if (segment === '.') {
      if (i === last) trailingSlash = true;
      continue;
    }
    if (segment === '..') {
      if (out.length === 0) refuse('dot_segment_above_root');
      out.pop();
      if (i === last) trailingSlash = true;
      continue;
    }
    out.push(segment);
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}
