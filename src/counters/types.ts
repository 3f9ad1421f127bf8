/**
 * Counter stores for rate limits, throttles and quotas. Each store is reduced to a few atomic
 * primitives (one Redis script each); the traffic stages build every policy from them. Memory
 * answers synchronously (the runner's sync fast path); Redis answers with a promise.
 */

/** GCRA: one request every `emissionMs` on average, up to `burst` at once. */
export interface GcraSpec {
  readonly emissionMs: number;
  readonly burst: number;
}

/** Sliding-window counter: at most `limit` in any `windowMs` (weighted previous window). */
export interface WindowSpec {
  readonly limit: number;
  readonly windowMs: number;
}

/** Leaky-bucket reservation: up to `burst` queued behind the rate, the first `delayFree` unqueued. */
export interface ReserveSpec {
  readonly emissionMs: number;
  readonly burst: number;
  readonly delayFree: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Requests still admitted right now after this one. */
  readonly remaining: number;
  /** When refused: milliseconds until the same request would be admitted. */
  readonly retryAfterMs: number;
  /** Milliseconds until the limit is fully replenished (or the window ends). */
  readonly resetMs: number;
}

export interface Reservation {
  readonly allowed: boolean;
  /** Milliseconds to wait before forwarding (0 when not queued). */
  readonly delayMs: number;
  /** When refused: milliseconds until a slot frees up. */
  readonly retryAfterMs: number;
}

export interface QuotaCount {
  readonly allowed: boolean;
  /** Count after the call when allowed; the current count when refused. */
  readonly count: number;
}

export type Maybe<T> = T | Promise<T>;

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  gcra(key: string, spec: GcraSpec, cost: number): Maybe<Decision>;
  slidingWindow(key: string, spec: WindowSpec, cost: number): Maybe<Decision>;
  reserve(key: string, spec: ReserveSpec): Maybe<Reservation>;
  /** Adds `cost` unless the count would pass `limit`; the key expires `ttlMs` after the write. */
  increment(key: string, cost: number, limit: number, ttlMs: number): Maybe<QuotaCount>;
  /** Current count of an `increment` key (0 when absent). */
  count(key: string): Maybe<number>;
  delete(key: string): Maybe<void>;
  close(): Promise<void>;
}

/**
 * Thrown (or rejected) by a store that cannot answer: the caller applies the limit's explicit
 * `onStoreError` policy. Never thrown for a refusal.
 */
export class CounterStoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CounterStoreUnavailable';
  }
}
