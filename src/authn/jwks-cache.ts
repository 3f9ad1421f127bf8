import { createLocalJWKSet, errors, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Dispatcher } from 'undici';
import { fetchJwks, JwksFetchError } from './jwks-fetch.js';

export interface JwksCacheOptions {
  readonly uri: string;
  /** How long a fetched key set is fresh; a background refresh runs at this interval. */
  readonly ttlMs: number;
  /** Minimum time between two fetches caused by an unknown `kid`. */
  readonly cooldownMs: number;
  /** How long keys are still served after the last successful fetch while refreshes fail. */
  readonly maxStaleMs: number;
  readonly timeoutMs: number;
  readonly maxKeys: number;
  readonly maxBytes: number;
  readonly dispatcher?: Dispatcher;
  readonly onError?: (error: Error) => void;
  /** Called after each fetch attempt (metrics). */
  readonly onFetch?: (outcome: 'ok' | 'error') => void;
}

interface KeySet {
  readonly keys: readonly JWK[];
  readonly resolve: JWTVerifyGetKey;
  readonly kids: ReadonlySet<string>;
  readonly json: string;
  readonly fetchedAt: number;
}

/** Background refreshes stop after this many TTL periods without a verification. */
const IDLE_PERIODS = 10;

/** No key set could be obtained (never fetched, or stale past `maxStaleMs`): refuse, do not guess. */
export class KeysUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('signing keys unavailable', options);
    this.name = 'KeysUnavailableError';
  }
}

/**
 * A JWKS endpoint's keys, held across config reloads. Fresh keys are refreshed in the
 * background; an unknown `kid` triggers at most one fetch per cooldown; when refreshes fail the
 * last good set keeps serving (up to `maxStaleMs`). jose does all key selection and verification.
 */
export class JwksCache {
  private options: JwksCacheOptions;
  private current: KeySet | undefined;
  private inflight: Promise<KeySet> | undefined;
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  private lastKidRefetchAt = Number.NEGATIVE_INFINITY;
  private lastUsedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Increments whenever the set of keys changes. */
  generation = 0;
  /** Number of fetch attempts (for metrics and tests). */
  fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.options = options;
  }

  /** Applies new options from a reload (the cached keys are kept). */
  configure(options: JwksCacheOptions): void {
    this.options = options;
  }

  /** The key resolver handed to jose's `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await this.usableSet();
    try {
      return await set.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayRefetchForUnknownKid()) throw error;
      const fresh = await this.refresh().catch(() => set);
      return fresh.resolve(header, token);
    }
  };

  /** True when `kid` is in the current set (used to expire cached verifications). */
  hasKid(kid: string): boolean {
    return this.current?.kids.has(kid) ?? false;
  }

  keys(): readonly JWK[] {
    return this.current?.keys ?? [];
  }

  /** Fetches now (single flight); resolves with the new set or rejects keeping the old one. */
  refresh(): Promise<KeySet> {
    if (this.inflight !== undefined) return this.inflight;
    this.lastFetchStartedAt = Date.now();
    this.fetches += 1;
    const { uri, timeoutMs, maxBytes, maxKeys, dispatcher } = this.options;
    this.inflight = fetchJwks(uri, {
      timeoutMs,
      maxBytes,
      maxKeys,
      ...(dispatcher === undefined ? {} : { dispatcher }),
    })
      .then((keys) => {
        this.options.onFetch?.('ok');
        return this.install(keys);
      })
      .catch((error: unknown) => {
        this.options.onFetch?.('error');
        const failure = error instanceof Error ? error : new JwksFetchError(String(error));
        this.options.onError?.(failure);
        throw failure;
      })
      .finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    return this.inflight;
  }

  /** Starts the background refresh loop (idempotent). */
  start(): void {
    if (this.timer === undefined && !this.closed) this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private install(keys: JWK[]): KeySet {
    const json = JSON.stringify(keys);
    if (this.current !== undefined && this.current.json === json) {
      this.current = { ...this.current, fetchedAt: Date.now() };
      return this.current;
    }
    const set: KeySet = {
      keys: Object.freeze(keys),
      resolve: createLocalJWKSet({ keys }),
      kids: new Set(keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string')),
      json,
      fetchedAt: Date.now(),
    };
    this.current = set;
    this.generation += 1;
    return set;
  }

  private async usableSet(): Promise<KeySet> {
    const set = this.current;
    const now = Date.now();
    this.lastUsedAt = now;
    if (this.timer === undefined && this.inflight === undefined) this.schedule();
    if (set !== undefined && now - set.fetchedAt <= this.options.ttlMs + this.options.maxStaleMs) {
      // past the TTL (e.g. after an idle spell): serve these keys and refresh behind them
      if (now - set.fetchedAt > this.options.ttlMs && this.inflight === undefined && this.mayRefetch()) {
        this.refresh().catch(() => undefined);
      }
      return set;
    }
    if (set === undefined || this.mayRefetch()) {
      try {
        return await this.refresh();
      } catch (error) {
        throw new KeysUnavailableError({ cause: error });
      }
    }
    throw new KeysUnavailableError();
  }

  /** At most one refetch per cooldown for unknown `kid`s, however many such tokens arrive. */
  private mayRefetchForUnknownKid(): boolean {
    if (this.inflight !== undefined) return true;
    const now = Date.now();
    if (now - this.lastKidRefetchAt < this.options.cooldownMs) return false;
    this.lastKidRefetchAt = now;
    return true;
  }

  private mayRefetch(): boolean {
    return this.inflight !== undefined || Date.now() - this.lastFetchStartedAt >= this.options.cooldownMs;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const fresh = this.current !== undefined && Date.now() - this.current.fetchedAt < this.options.ttlMs;
    // after a failure retry sooner (but never faster than the cooldown)
    const delay = fresh ? this.options.ttlMs : Math.max(this.options.cooldownMs, 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // an issuer no route uses any more (removed by a reload) stops polling until used again
      if (Date.now() - this.lastUsedAt > IDLE_PERIODS * this.options.ttlMs) return;
      this.refresh().catch(() => undefined);
    }, delay);
    this.timer.unref();
  }
}
