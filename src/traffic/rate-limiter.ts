import type { StoreErrorPolicy } from '../counters/config.js';
import { CounterStoreUnavailable, type Decision, type GcraSpec, type WindowSpec } from '../counters/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import type { CountersService } from './counters-service.js';
import { parseDuration } from './duration.js';
import { compileKey, type KeyPart } from './limit-key.js';
import { policyItem, retryAfterSeconds, sfString, stateItem } from './rate-limit-headers.js';

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
  readonly quotedName: string;
  readonly prefix: string;
  readonly key: (ctx: RequestContext) => string;
  readonly algorithm: 'gcra' | 'sliding-window';
  readonly cost: number;
  readonly onStoreError: StoreErrorPolicy;
  readonly shape: Shape;
  readonly nodes: number;
  readonly overrides: WeakMap<object, Shape | null>;
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
 * the memory store, one script per limit (run in parallel) on Redis. A refusal throws
 * `rate_limited`; a store outage applies each limit's explicit `onStoreError`.
 */
export class RateLimiter {
  private readonly limits: readonly CompiledLimit[];
  private readonly sync: boolean;
  private readonly baseShapes: readonly Shape[];

  constructor(
    configs: readonly RateLimitConfig[],
    private readonly counters: CountersService,
    private readonly options: RateLimiterOptions,
  ) {
    this.sync = counters.store.kind === 'memory';
    this.limits = configs.map((config, index) => {
      const name = limitName(config, index);
      const nodes = config.fallbackNodes ?? counters.expectedNodes;
      return {
        name,
        quotedName: sfString(name),
        prefix: `rl:${config.shared === true ? '*' : options.routeName}:${name}:`,
        key: compileKey(config.key ?? ['consumer'], {
          ipv6Prefix: config.ipv6Prefix ?? 64,
          ipv4Prefix: config.ipv4Prefix ?? 32,
        }),
        algorithm: config.algorithm ?? 'gcra',
        cost: config.cost ?? 1,
        onStoreError: config.onStoreError ?? counters.defaultPolicy,
        shape: shapeOf(name, config.rate, parseDuration(config.per), config.burst ?? config.rate, nodes),
        nodes,
        overrides: new WeakMap(),
      };
    });
    this.baseShapes = this.limits.map((l) => l.shape);
  }

  get names(): readonly string[] {
    return this.limits.map((l) => l.name);
  }

  check(ctx: RequestContext): void | Promise<void> {
    const overrides = overridesOf(ctx);
    const shapes =
      overrides === undefined ? this.baseShapes : this.limits.map((l) => this.shapeFor(l, overrides));
    if (this.sync) {
      const decisions: Decision[] = [];
      for (let i = 0; i < this.limits.length; i++) {
        const limit = this.limits[i] as CompiledLimit;
        const shape = shapes[i] as Shape;
        const key = limit.prefix + limit.key(ctx);
        const d =
          limit.algorithm === 'gcra'
            ? (this.counters.store.gcra(key, shape.gcra, limit.cost) as Decision)
            : (this.counters.store.slidingWindow(key, shape.window, limit.cost) as Decision);
        decisions.push(d);
        if (!d.allowed) break;
      }
      this.finish(ctx, decisions, shapes);
      return;
    }
    return Promise.all(this.limits.map((limit, i) => this.decideShared(ctx, limit, shapes[i] as Shape))).then(
      (decisions) => this.finish(ctx, decisions, shapes),
    );
  }

  private async decideShared(ctx: RequestContext, limit: CompiledLimit, shape: Shape): Promise<Decision> {
    const key = limit.prefix + limit.key(ctx);
    try {
      return limit.algorithm === 'gcra'
        ? await this.counters.store.gcra(key, shape.gcra, limit.cost)
        : await this.counters.store.slidingWindow(key, shape.window, limit.cost);
    } catch (error) {
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
      return limit.algorithm === 'gcra'
        ? (this.counters.fallback.gcra(key, shape.localGcra, limit.cost) as Decision)
        : (this.counters.fallback.slidingWindow(key, shape.localWindow, limit.cost) as Decision);
    }
  }

  private finish(ctx: RequestContext, decisions: readonly Decision[], shapes: readonly Shape[]): void {
    let refused: number | undefined;
    for (let i = 0; i < decisions.length; i++) {
      if (!(decisions[i] as Decision).allowed) {
        refused = i;
        break;
      }
    }
    if (this.options.headers) {
      let policy = '';
      for (let i = 0; i < shapes.length; i++) policy += (i === 0 ? '' : ', ') + (shapes[i] as Shape).policy;
      let state = '';
      for (let i = 0; i < decisions.length; i++) {
        const d = decisions[i] as Decision;
        const name = (this.limits[i] as CompiledLimit).quotedName;
        state += (i === 0 ? '' : ', ') + stateItem(name, d.remaining, d.allowed ? d.resetMs : d.retryAfterMs);
      }
      ctx.responseHeaders['ratelimit-policy'] = policy;
      ctx.responseHeaders['ratelimit'] = state;
    }
    if (refused === undefined) return;
    const d = decisions[refused] as Decision;
    const name = (this.limits[refused] as CompiledLimit).name;
    ctx.logFields.rateLimit = name;
    throw new GatewayError('rate_limited', {
      headers: { 'retry-after': retryAfterSeconds(d.retryAfterMs) },
      reason: `rate_limit:${name}`,
    });
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
