import type { StoreErrorPolicy } from '../counters/config.js';
import type { MemoryCounterStore, MemoryKeyspace } from '../counters/memory-store.js';
import {
  CounterStoreUnavailable,
  type CounterStore,
  type Decision,
  type GcraSpec,
  type WindowSpec,
} from '../counters/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import type { CountersService } from './counters-service.js';
import { parseDuration } from './duration.js';
import { compileKeyParts, type KeyPart } from './limit-key.js';
import { StateItemFormatter, policyItem, retryAfterSeconds, sfString } from './rate-limit-headers.js';

export interface RateLimitConfig {
  readonly name?: string;
  readonly rate: number;
  readonly per: string | number;
  readonly burst?: number;
  readonly algorithm?: 'gcra' | 'sliding-window';
  readonly key?: readonly KeyPart[];
  readonly cost?: number;
  readonly onStoreError?: StoreErrorPolicy;
  /** Count across every route that declares a shared limit of the same name. */
  readonly shared?: boolean;
  readonly ipv6Prefix?: number;
  readonly ipv4Prefix?: number;
  /** Nodes assumed to share the limit when falling back locally (default counters.expectedNodes). */
  readonly fallbackNodes?: number;
}

/** A limit's shape; consumer overrides (attributes.rateLimits[name]) replace parts of it. */
interface Shape {
  readonly rate: number;
  readonly perMs: number;
  readonly burst: number;
  readonly gcra: GcraSpec;
  readonly window: WindowSpec;
  readonly localGcra: GcraSpec;
  readonly localWindow: WindowSpec;
  readonly policy: string;
}

interface CompiledLimit {
  readonly name: string;
  /** The counter key is `head + subject(ctx)`; head is `rl:<route or *>:<name>:` (+ a fixed tag). */
  readonly head: string;
  readonly subject: (ctx: RequestContext) => string;
  /** On the memory store: the counters under `head`, looked up by subject alone. */
  readonly space: MemoryKeyspace | undefined;
  readonly gcra: boolean;
  readonly cost: number;
  readonly onStoreError: StoreErrorPolicy;
  readonly shape: Shape;
  readonly nodes: number;
  readonly overrides: WeakMap<object, Shape | null>;
  readonly state: StateItemFormatter;
}

export interface RateLimiterOptions {
  readonly routeName: string;
  readonly headers: boolean;
}

function shapeOf(name: string, rate: number, perMs: number, burst: number, nodes: number): Shape {
  const emissionMs = perMs / rate;
  const localRate = Math.max(1, Math.floor(rate / nodes));
  return {
    rate,
    perMs,
    burst,
    gcra: { emissionMs, burst },
    window: { limit: rate, windowMs: perMs },
    localGcra: { emissionMs: perMs / localRate, burst: Math.max(1, Math.floor(burst / nodes)) },
    localWindow: { limit: localRate, windowMs: perMs },
    policy: policyItem(name, rate, perMs),
  };
}

/** Default names: `20-per-1s`, unique within the route. */
export function limitName(config: RateLimitConfig, index: number): string {
  return config.name ?? `${config.rate}-per-${String(config.per)}${index === 0 ? '' : `-${index}`}`;
}

/**
 * The limits of one route, compiled at load. `check` decides every limit for a request: sync on
 * the memory store (no promise, no array: the runner continues at once), one script per limit
 * (run in parallel) on Redis. A refusal throws `rate_limited`; a store outage applies each
 * limit's explicit `onStoreError`.
 */
export class RateLimiter {
  private readonly limits: readonly CompiledLimit[];
  /** Counters are in memory: decisions are synchronous. */
  private readonly local: boolean;
  private readonly shared: CounterStore;
  /** `RateLimit-Policy` for the configured shapes (without consumer overrides). */
  private readonly basePolicy: string;

  constructor(
    configs: readonly RateLimitConfig[],
    private readonly counters: CountersService,
    private readonly options: RateLimiterOptions,
  ) {
    this.shared = counters.store;
    const local = counters.store.kind === 'memory' ? (counters.store as MemoryCounterStore) : undefined;
    this.local = local !== undefined;
    this.limits = configs.map((config, index) => {
      const name = limitName(config, index);
      const nodes = config.fallbackNodes ?? counters.expectedNodes;
      const { head, subject } = compileKeyParts(config.key ?? ['consumer'], {
        ipv6Prefix: config.ipv6Prefix ?? 64,
        ipv4Prefix: config.ipv4Prefix ?? 32,
        prefix: `rl:${config.shared === true ? '*' : options.routeName}:${name}:`,
      });
      return {
        name,
        head,
        subject,
        space: local?.keyspace(head),
        gcra: (config.algorithm ?? 'gcra') === 'gcra',
        cost: config.cost ?? 1,
        onStoreError: config.onStoreError ?? counters.defaultPolicy,
        shape: shapeOf(name, config.rate, parseDuration(config.per), config.burst ?? config.rate, nodes),
        nodes,
        overrides: new WeakMap(),
        state: new StateItemFormatter(sfString(name)),
      };
    });
    this.basePolicy = this.limits.map((l) => l.shape.policy).join(', ');
  }

  get names(): readonly string[] {
    return this.limits.map((l) => l.name);
  }

  check(ctx: RequestContext): void | Promise<void> {
    const overrides = overridesOf(ctx);
    if (this.local) {
      this.checkLocal(ctx, overrides);
      return;
    }
    if (this.limits.length === 1) {
      const limit = this.limits[0] as CompiledLimit;
      const shape = this.shapeFor(limit, overrides);
      const key = limit.head + limit.subject(ctx);
      // one continuation for both outcomes (no intermediate promise for the error policy)
      return this.ask(limit, shape, key).then(
        (d) => this.finishOne(ctx, overrides, limit, d),
        (error: unknown) =>
          this.finishOne(ctx, overrides, limit, this.storeFailed(ctx, limit, shape, key, error)),
      );
    }
    return Promise.all(
      this.limits.map((limit) => this.decideShared(ctx, limit, this.shapeFor(limit, overrides))),
    ).then((decisions) => this.finish(ctx, overrides, decisions));
  }

  /** Memory store: limits in order, stopping at the first refusal. */
  private checkLocal(ctx: RequestContext, overrides: Record<string, unknown> | undefined): void {
    const limits = this.limits;
    let state = '';
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i] as CompiledLimit;
      const shape = this.shapeFor(limit, overrides);
      const space = limit.space as MemoryKeyspace;
      const d = limit.gcra
        ? space.gcra(limit.subject(ctx), shape.gcra, limit.cost)
        : space.slidingWindow(limit.subject(ctx), shape.window, limit.cost);
      if (this.options.headers) {
        const item = limit.state.format(d.remaining, d.allowed ? d.resetMs : d.retryAfterMs);
        state = i === 0 ? item : `${state}, ${item}`;
      }
      if (!d.allowed) {
        if (this.options.headers) this.setHeaders(ctx, overrides, state);
        throw refusal(ctx, limit, d);
      }
    }
    if (this.options.headers) this.setHeaders(ctx, overrides, state);
  }

  private decideShared(ctx: RequestContext, limit: CompiledLimit, shape: Shape): Promise<Decision> {
    const key = limit.head + limit.subject(ctx);
    return this.ask(limit, shape, key).then(undefined, (error: unknown) =>
      this.storeFailed(ctx, limit, shape, key, error),
    );
  }

  private ask(limit: CompiledLimit, shape: Shape, key: string): Promise<Decision> {
    return (
      limit.gcra
        ? this.shared.gcra(key, shape.gcra, limit.cost)
        : this.shared.slidingWindow(key, shape.window, limit.cost)
    ) as Promise<Decision>;
  }

  /** The limit's explicit `onStoreError`: 503 (fail-closed) or this node's share, decided locally. */
  private storeFailed(
    ctx: RequestContext,
    limit: CompiledLimit,
    shape: Shape,
    key: string,
    error: unknown,
  ): Decision {
    if (!(error instanceof CounterStoreUnavailable)) throw error;
    this.counters.storeFailed(error, limit.name, limit.onStoreError);
    ctx.logFields.counterStore = limit.onStoreError;
    if (limit.onStoreError === 'fail-closed') {
      throw new GatewayError('store_unavailable', {
        headers: { 'retry-after': '1' },
        reason: 'counter_store_unavailable',
        cause: error,
      });
    }
    return limit.gcra
      ? (this.counters.fallback.gcra(key, shape.localGcra, limit.cost) as Decision)
      : (this.counters.fallback.slidingWindow(key, shape.localWindow, limit.cost) as Decision);
  }

  private finishOne(
    ctx: RequestContext,
    overrides: Record<string, unknown> | undefined,
    limit: CompiledLimit,
    d: Decision,
  ): void {
    if (this.options.headers) {
      this.setHeaders(
        ctx,
        overrides,
        limit.state.format(d.remaining, d.allowed ? d.resetMs : d.retryAfterMs),
      );
    }
    if (!d.allowed) throw refusal(ctx, limit, d);
  }

  private finish(
    ctx: RequestContext,
    overrides: Record<string, unknown> | undefined,
    decisions: readonly Decision[],
  ): void {
    if (this.options.headers) {
      let state = '';
      for (let i = 0; i < decisions.length; i++) {
        const d = decisions[i] as Decision;
        const item = (this.limits[i] as CompiledLimit).state.format(
          d.remaining,
          d.allowed ? d.resetMs : d.retryAfterMs,
        );
        state = i === 0 ? item : `${state}, ${item}`;
      }
      this.setHeaders(ctx, overrides, state);
    }
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i] as Decision;
      if (!d.allowed) throw refusal(ctx, this.limits[i] as CompiledLimit, d);
    }
  }

  private setHeaders(
    ctx: RequestContext,
    overrides: Record<string, unknown> | undefined,
    state: string,
  ): void {
    let policy = this.basePolicy;
    if (overrides !== undefined) {
      policy = '';
      for (let i = 0; i < this.limits.length; i++) {
        const limit = this.limits[i] as CompiledLimit;
        policy += (i === 0 ? '' : ', ') + this.shapeFor(limit, overrides).policy;
      }
    }
    ctx.responseHeaders['ratelimit-policy'] = policy;
    ctx.responseHeaders['ratelimit'] = state;
  }

  private shapeFor(limit: CompiledLimit, overrides: Record<string, unknown> | undefined): Shape {
    if (overrides === undefined) return limit.shape;
    const override = overrides[limit.name];
    if (override === null || typeof override !== 'object') return limit.shape;
    let shape = limit.overrides.get(override);
    if (shape === undefined) {
      shape = compileOverride(limit, override as Record<string, unknown>);
      limit.overrides.set(override, shape);
    }
    return shape ?? limit.shape;
  }
}

function refusal(ctx: RequestContext, limit: CompiledLimit, d: Decision): GatewayError {
  ctx.logFields.rateLimit = limit.name;
  return new GatewayError('rate_limited', {
    headers: { 'retry-after': retryAfterSeconds(d.retryAfterMs) },
    reason: `rate_limit:${limit.name}`,
  });
}

function overridesOf(ctx: RequestContext): Record<string, unknown> | undefined {
  const value = ctx.identity?.attributes.rateLimits;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

/** Store data, checked before use; an invalid override is ignored (the route's limit applies). */
function compileOverride(limit: CompiledLimit, o: Record<string, unknown>): Shape | null {
  const rate = o.rate ?? limit.shape.rate;
  const burst = o.burst ?? (o.rate === undefined ? limit.shape.burst : rate);
  let perMs = limit.shape.perMs;
  if (o.per !== undefined) {
    if (typeof o.per !== 'string' && typeof o.per !== 'number') return null;
    try {
      perMs = parseDuration(o.per);
    } catch {
      return null;
    }
  }
  if (!isPositiveInt(rate) || !isPositiveInt(burst) || !(perMs > 0)) return null;
  return shapeOf(limit.name, rate, perMs, burst, limit.nodes);
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
