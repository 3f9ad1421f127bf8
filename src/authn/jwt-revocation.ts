import type { CredentialStore } from '../store/types.js';

/**
 * Revoked access tokens of the built-in authorization server, as seen by the verifier. A first
 * verification asks the store; cached verifications are re-checked against the change feed:
 * a jti revoked on any node, or an interrupted feed (`*`), invalidates them.
 */
export class RevocationWatch {
  /** Changes when the feed was interrupted: every cached verification must be redone. */
  epoch = 0;
  private readonly recent = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Pick<CredentialStore, 'isTokenRevoked' | 'subscribe'>,
    /** How long a revoked jti is remembered here: at least the longest cache entry life. */
    private readonly rememberMs: number,
  ) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.kind !== 'token') return;
      if (event.id === '*') this.epoch += 1;
      else this.remember(event.id);
    });
  }

  /** Authoritative check, on first verification. Rejects when the store is unreachable. */
  isRevoked(jti: string): Promise<boolean> {
    return this.store.isTokenRevoked(jti);
  }

  /** True when a verification made at `epoch` must not be reused for `jti`. */
  invalidated(jti: string, epoch: number): boolean {
    return epoch !== this.epoch || this.recent.has(jti);
  }

  remember(jti: string): void {
    const now = Date.now();
    this.recent.set(jti, now);
    if (this.recent.size > 1000) {
      for (const [id, at] of this.recent) {
        if (now - at <= this.rememberMs) break;
        this.recent.delete(id);
      }
    }
  }

  close(): void {
    this.unsubscribe();
  }
}
