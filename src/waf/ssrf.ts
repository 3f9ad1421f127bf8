import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import { isBlockedAddress } from './ip-ranges.js';

/**
 * Server-side request forgery checks for URL-typed fields (cf. CRS 934110 cloud metadata URLs;
 * PayloadsAllTheThings "Server Side Request Forgery"). The URL is parsed the way a WHATWG client
 * would (which canonicalises `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`
 * and full-width digits), the host is checked, then resolved with the system resolver and every
 * address it maps to is checked again. A name that resolves to a private address is refused.
 * This does not stop DNS rebinding between our look-up and the upstream's: the upstream must pin
 * or re-check its own connections; this stage only removes the easy paths.
 */

export type LookupAll = (hostname: string) => Promise<readonly string[]>;

export interface SsrfOptions {
  /** Host names (exact, or `*.example.com` for sub-domains) accepted whatever they resolve to. */
  readonly allowHosts?: readonly string[];
  /** Only the `allowHosts` are accepted; every other host is refused. */
  readonly allowListOnly?: boolean;
  /** Schemes accepted (default http, https). Others (file, gopher, dict, ldap, ...) are refused. */
  readonly schemes?: readonly string[];
  /** Refuse (default) or accept URLs whose host does not resolve or resolves too slowly. */
  readonly onResolveError?: 'block' | 'allow';
  readonly resolveTimeoutMs?: number;
  /** How long a host's verdict is reused (default 30 s; 0 disables the cache). */
  readonly cacheTtlMs?: number;
  /** Resolver (tests inject one); defaults to dns.promises.lookup with all: true. */
  readonly lookup?: LookupAll;
}

export interface SsrfVerdict {
  readonly blocked: boolean;
  /** Machine reason: `scheme`, `metadata-host`, `internal-name`, `private-address`, `resolves-private`, `unresolvable`, `not-allowed`, `bad-url`. */
  readonly reason?: string;
}

const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
  'metadata.packet.net',
  'metadata.platformequinix.com',
  'kubernetes.default',
  'kubernetes.default.svc',
]);
const INTERNAL_SUFFIXES = [
  '.localhost',
  '.internal',
  '.local',
  '.localdomain',
  '.home.arpa',
  '.svc',
  '.cluster.local',
  '.intranet',
  '.corp',
  '.lan',
];

export const defaultLookup: LookupAll = async (hostname) => {
  const results = await dnsLookup(hostname, { all: true, verbatim: true });
  return results.map((r) => r.address);
};

export interface CompiledSsrf {
  /** Synchronous part: scheme, literal addresses, well-known names. `undefined` means "resolve it". */
  checkSync(value: string): SsrfVerdict | { readonly resolve: string };
  check(value: string): Promise<SsrfVerdict>;
}

function hostMatcher(patterns: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns) {
    const lower = p.toLowerCase();
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
    else exact.add(lower);
  }
  return (host) => exact.has(host) || suffixes.some((s) => host.endsWith(s));
}

/** Parses a URL-ish field value: absolute URL, or a bare host[:port][/path] (read as http). */
export function parseTargetUrl(value: string): URL | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // `host:port` would parse as a URL with scheme `host:`: without `://` read it as a host first
  const candidates = trimmed.includes('://') ? [trimmed] : [`http://${trimmed}`, trimmed];
  for (const candidate of candidates) {
    try {
      return new URL(candidate);
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

export function compileSsrf(options: SsrfOptions = {}): CompiledSsrf {
  const allowed = hostMatcher(options.allowHosts ?? []);
  const schemes = new Set(
    (options.schemes ?? ['http', 'https']).map((s) => (s.endsWith(':') ? s.slice(0, -1) : s).toLowerCase()),
  );
  const lookup = options.lookup ?? defaultLookup;
  const timeoutMs = options.resolveTimeoutMs ?? 2000;
  const onError = options.onResolveError ?? 'block';

  const checkSync = (value: string): SsrfVerdict | { readonly resolve: string } => {
    const url = parseTargetUrl(value);
    if (url === undefined) return { blocked: true, reason: 'bad-url' };
    const scheme = url.protocol.slice(0, -1);
    if (!schemes.has(scheme)) return { blocked: true, reason: 'scheme' };
    let host = url.hostname.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (host === '') return { blocked: true, reason: 'bad-url' };
    if (allowed(host)) return { blocked: false };
    if (options.allowListOnly === true) return { blocked: true, reason: 'not-allowed' };
    if (METADATA_HOSTS.has(host)) return { blocked: true, reason: 'metadata-host' };
    const literal = host.startsWith('[') ? host.slice(1, -1) : host;
    if (isIP(literal) !== 0)
      return isBlockedAddress(literal) ? { blocked: true, reason: 'private-address' } : { blocked: false };
    // single-label names (localhost, redis, db) are resolved below like any other name
    if (INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return { blocked: true, reason: 'internal-name' };
    return { resolve: host };
  };

  // verdicts per host, so a flood of requests naming the same host does not queue look-ups in the
  // libuv thread pool (the upstream resolves again anyway, so a short-lived cache loses nothing)
  const ttl = options.cacheTtlMs ?? 30_000;
  const cache = ttl > 0 ? new LRUCache<string, SsrfVerdict>({ max: 10_000, ttl }) : undefined;
  const resolveCached = async (host: string): Promise<SsrfVerdict> => {
    const cached = cache?.get(host);
    if (cached !== undefined) return cached;
    const verdict = await resolve(host);
    cache?.set(host, verdict);
    return verdict;
  };

  const resolve = async (host: string): Promise<SsrfVerdict> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const addresses = await Promise.race([
        lookup(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('dns timeout')), timeoutMs);
          timer.unref();
        }),
      ]);
      if (addresses.length === 0)
        return onError === 'block' ? { blocked: true, reason: 'unresolvable' } : { blocked: false };
      for (const address of addresses)
        if (isBlockedAddress(address)) return { blocked: true, reason: 'resolves-private' };
      return { blocked: false };
    } catch {
      return onError === 'block' ? { blocked: true, reason: 'unresolvable' } : { blocked: false };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  return {
    checkSync,
    async check(value) {
      const first = checkSync(value);
      return 'resolve' in first ? resolveCached(first.resolve) : first;
    },
  };
}

/** Cheap test used when no schema says which fields are URLs: the whole value is an absolute URL. */
export function looksLikeUrl(value: string): boolean {
  const colon = value.indexOf('://');
  if (colon < 2 || colon > 12) return false;
  for (let i = 0; i < colon; i++) {
    const c = value.charCodeAt(i) | 32;
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  }
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) <= 32) return false;
  return true;
}
