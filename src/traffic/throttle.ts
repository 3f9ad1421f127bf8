import type { StoreErrorPolicy } from '../counters/config.js';
import { CounterStoreUnavailable, type Reservation, type ReserveSpec } from '../counters/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import type { CountersService } from './counters-service.js';
import { parseDuration } from './duration.js';
import { compileKey, type KeyPart } from './limit-key.js';
import { retryAfterSeconds } from './rate-limit-headers.js';

export interface ThrottleConfig {
  readonly rate: number;
  readonly per: string | number;
  /** Requests queued beyond the rate; past it, 429 (nginx `burst`). */
  readonly burst?: number;
  /** The first `delay` queued requests are forwarded at once (nginx `delay`). */
  readonly delay?: number;
  readonly key?: readonly KeyPart[];
  /** Most requests waiting in this process; past it, 429 (bounds memory). */
  readonly maxWaiting?: number;
  readonly onStoreError?: StoreErrorPolicy;
  readonly ipv6Prefix?: number;
  readonly ipv4Prefix?: number;
}

/**
 * Smooths bursts with a leaky bucket: a request above the rate waits its turn (up to
 * `burst` intervals) instead of being refused. The reservation is one atomic store call; only the
 * wait happens here.
 */
export class Throttle {
  private readonly spec: ReserveSpec;
  private readonly localSpec: ReserveSpec;
  private readonly key: (ctx: RequestContext) => string;
  private readonly prefix: string;
  private readonly maxWaiting: number;
  private readonly policy: StoreErrorPolicy;
  private waiting = 0;

  constructor(
    config: ThrottleConfig,
    private readonly counters: CountersService,
    routeName: string,
  ) {
    const perMs = parseDuration(config.per);
    const burst = config.burst ?? 0;
    this.spec = { emissionMs: perMs / config.rate, burst, delayFree: Math.min(config.delay ?? 0, burst) };
    const nodes = counters.expectedNodes;
    this.localSpec = { ...this.spec, emissionMs: (perMs / config.rate) * nodes };
    this.key = compileKey(config.key ?? ['consumer'], {
      ipv6Prefix: config.ipv6Prefix ?? 64,
      ipv4Prefix: config.ipv4Prefix ?? 32,
    });
    this.prefix = `th:${routeName}:`;
    this.maxWaiting = config.maxWaiting ?? 1000;
    this.policy = config.onStoreError ?? counters.defaultPolicy;
  }

  run(ctx: RequestContext): void | Promise<void> {
    if (this.waiting >= this.maxWaiting) throw refuse(ctx, 1000, 'throttle_queue_full');
    const key = this.prefix + this.key(ctx);
    const reserved = this.counters.store.reserve(key, this.spec);
    if (!(reserved instanceof Promise)) return this.admit(ctx, reserved);
    return reserved.then(
      (r) => this.admit(ctx, r),
      (error: unknown) => {
        if (!(error instanceof CounterStoreUnavailable)) throw error;
        this.counters.storeFailed(error, 'throttle', this.policy);
        if (this.policy === 'fail-closed') {
          throw new GatewayError('store_unavailable', {
            headers: { 'retry-after': '1' },
            reason: 'counter_store_unavailable',
          });
        }
        return this.admit(ctx, this.counters.fallback.reserve(key, this.localSpec));
      },
    );
  }

  private admit(ctx: RequestContext, r: Reservation): void | Promise<void> {
    if (!r.allowed) throw refuse(ctx, r.retryAfterMs, 'throttle_burst_exceeded');
    if (r.delayMs <= 0) return;
    ctx.logFields.throttleDelayMs = Math.ceil(r.delayMs);
    this.waiting++;
    return new Promise<void>((resolve) => {
      // unref: a sleeping request never holds a shutting-down process open by itself
      setTimeout(() => {
        this.waiting--;
        resolve();
      }, r.delayMs).unref();
    });
  }
}

function refuse(ctx: RequestContext, retryAfterMs: number, reason: string): GatewayError {
  ctx.logFields.throttle = reason;
  return new GatewayError('rate_limited', {
    headers: { 'retry-after': retryAfterSeconds(retryAfterMs) },
    reason,
  });
}
