import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../pipeline/identity.js';

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
 * Bounded LRU keyed by the SHA-256 of the token. An entry never outlives its token: the TTL is
 * capped at `validUntil`, and callers re-check key presence and revocation on every hit.
 */
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, VerifiedToken>;
  private readonly maxTtlMs: number;

  constructor(maxEntries: number, maxTtlMs: number) {
    this.cache = new LRUCache({ max: maxEntries, ttlAutopurge: false });
    this.maxTtlMs = maxTtlMs;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, now: number): VerifiedToken | undefined {
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.validUntil) {
      this.cache.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: VerifiedToken, now: number): void {
    const ttl = Math.min(entry.validUntil - now, this.maxTtlMs);
    if (ttl > 0) this.cache.set(key, entry, { ttl });
  }

  delete(key: string): void {
    this.cache.delete(key);
  }

  /** Drops every entry of a revoked `jti` (rare; a scan is fine). */
  deleteJti(jti: string): void {
    for (const [key, entry] of this.cache.entries()) if (entry.jti === jti) this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }
}
