import type { JWK } from 'jose';
import type { SigningKeys } from '../crypto/signing-keys.js';
import type { LocalKeyProvider } from '../authn/jwt-keys.js';
import type { CredentialStore } from '../store/types.js';

/**
 * The authorization server's published public keys, kept in memory for the `local: true` JWT
 * issuer: reloaded on every signing-key change event (any node) and on demand (unknown kid).
 */
export class LocalKeySet implements LocalKeyProvider {
  #keys: readonly JWK[] = [];
  #json = '[]';
  #generation = 0;
  #loading: Promise<void> | undefined;
  #lastLoad = Number.NEGATIVE_INFINITY;
  readonly #unsubscribe: () => void;

  constructor(
    readonly issuer: string,
    private readonly signingKeys: SigningKeys,
    store: Pick<CredentialStore, 'subscribe'>,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.kind === 'signing_key') this.reload().catch(onError);
    });
  }

  keys(): readonly JWK[] {
    return this.#keys;
  }

  generation(): number {
    return this.#generation;
  }

  /** Reload unless one ran in the last second (unknown-kid path). */
  async refresh(): Promise<void> {
    if (this.#loading === undefined && Date.now() - this.#lastLoad < 1000) return;
    await this.reload();
  }

  reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        this.#lastLoad = Date.now();
        this.signingKeys.invalidate();
        const { keys } = await this.signingKeys.jwks();
        const json = JSON.stringify(keys);
        if (json !== this.#json) {
          this.#keys = Object.freeze(keys.map((key) => ({ ...key }) as JWK));
          this.#json = json;
          this.#generation += 1;
        }
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  close(): void {
    this.#unsubscribe();
  }
}
