import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CredentialStore } from '../store/types.js';

/**
 * Remembers the `jti` of every accepted private_key_jwt client assertion until it expires, so a
 * captured assertion cannot be used twice. In memory first (atomic in this process), then in the
 * store's revoked-token ledger (id `assertion:<hash>`), whose insert-if-absent is atomic across
 * gateway nodes: of two nodes that receive the same assertion at once, one accepts it.
 */
export class AssertionReplayGuard {
  readonly #seen = new LRUCache<string, true>({ max: 100_000 });

  constructor(private readonly store: Pick<CredentialStore, 'recordTokenOnce'>) {}

  /** True when this is the first use of (`clientId`, `jti`); records it until `expiresAt` (ms). */
  async firstUse(clientId: string, jti: string, expiresAt: number, now = Date.now()): Promise<boolean> {
    const key = createHash('sha256').update(`${clientId}\u0000${jti}`).digest('base64url');
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, true, { ttl: Math.max(1, expiresAt - now) });
    return this.store.recordTokenOnce(`assertion:${key}`, expiresAt);
  }
}
