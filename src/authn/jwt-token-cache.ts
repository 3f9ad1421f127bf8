import { LRUCache } from 'lru-cache';
import type { Identity } from '../pipeline/identity.js';
import { stringsEqual } from './constant-time.js';

/** A token that jose has verified, remembered so that its next use skips the signature check. */
export interface VerifiedToken {
  readonly identity: Identity;
  readonly kid: string | undefined;
  /** Key-set generation the token was verified against. */
  readonly generation: number;
  readonly jti: string | undefined;
  /** Revocation-feed epoch at verification (local issuers). */
  readonly revocationEpoch: number;
  /** `cnf.x5t#S256`, checked against the client certificate on every use. */
  readonly certificateThumbprint: string | undefined;
  /** Epoch ms after which the entry is invalid (token `exp`, or `iat + maxAge`). */
  readonly validUntil: number;
}

/**
 * Bounded LRU of verified tokens, looked up without hashing the token: the signing input
 * (`header.payload`, public: what the signature covers) finds the entry, and the signature is
 * compared with the verified one in constant time. A token with another signature is not served
 * (and does not evict the entry). An entry never outlives its token: the TTL is capped at
 * `validUntil`, and callers re-check key presence and revocation on every hit.
 */
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, CachedToken>;
  private readonly maxTtlMs: number;

  constructor(maxEntries: number, maxTtlMs: number) {
    this.cache = new LRUCache({ max: maxEntries, ttlAutopurge: false });
    this.maxTtlMs = maxTtlMs;
  }

  get(token: string, now: number): VerifiedToken | undefined {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const signingInput = token.slice(0, dot);
    const cached = this.cache.get(signingInput);
    if (cached === undefined || !stringsEqual(token, cached.signature, dot + 1)) return undefined;
    if (now >= cached.entry.validUntil) {
      this.cache.delete(signingInput);
      return undefined;
    }
    return cached.entry;
  }

  set(token: string, entry: VerifiedToken, now: number): void {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return;
    const ttl = Math.min(entry.validUntil - now, this.maxTtlMs);
    if (ttl > 0) this.cache.set(token.slice(0, dot), { entry, signature: token.slice(dot + 1) }, { ttl });
  }

  /** Drops the entry of this token (only when the token is the one verified). */
  delete(token: string): void {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return;
    const signingInput = token.slice(0, dot);
    const cached = this.cache.get(signingInput);
    if (cached !== undefined && stringsEqual(token, cached.signature, dot + 1))
      this.cache.delete(signingInput);
  }

  /** Drops every entry of a revoked `jti` (rare; a scan is fine). */
  deleteJti(jti: string): void {
    for (const [key, cached] of this.cache.entries()) if (cached.entry.jti === jti) this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }
}

interface CachedToken {
  readonly entry: VerifiedToken;
  /** The verified token's signature part (base64url). */
  readonly signature: string;
}
