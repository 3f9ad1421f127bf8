import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { UpstreamAbort } from './abort.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { RetryBudget } from './retry-budget.js';
import { Target } from './target.js';

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** A stream (not retryable), a buffer, or nothing. */
  readonly body: Readable | Buffer | undefined;
  /** Aborts the upstream call when the client goes away (the total timeout uses it too). */
  readonly signal?: UpstreamAbort;
}

export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
  readonly target: string;
  /** Call when the body has been fully consumed or abandoned. */
  done(ok: boolean): void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** A named upstream: targets, balancing, health checks, outlier ejection, retries, breaker. */
export class Upstream {
  readonly name: string;
  readonly targets: readonly Target[];
  readonly hostHeader: string;
  private readonly balance: 'round_robin' | 'least_connections';
  private readonly breaker: CircuitBreaker | undefined;
  private readonly budget: RetryBudget;
  private readonly attempts: number;
  private readonly retryStatus: ReadonlySet<number>;
  private readonly totalMs: number;
  private readonly ejectAfter: number;
  private readonly ejectionMs: number;
  private healthTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    name: string,
    private readonly config: UpstreamConfig,
    resolveFile: (p: string) => string,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.name = name;
    this.targets = config.targets.map((t) => new Target(t.url, t.weight ?? 1, config, resolveFile));
    this.hostHeader = new URL(config.targets[0]!.url).host;
    this.balance = config.balance ?? 'round_robin';
    const cb = config.circuitBreaker;
    this.breaker = cb
      ? new CircuitBreaker(cb.failureThreshold ?? 5, cb.resetMs ?? 10_000, cb.halfOpenRequests ?? 1)
      : undefined;
    this.budget = new RetryBudget(config.retries?.budgetPercent ?? 20);
    this.attempts = config.retries?.attempts ?? 1;
    this.retryStatus = new Set(config.retries?.onStatus ?? [502, 503, 504]);
    this.totalMs = config.timeouts?.totalMs ?? 0;
    this.ejectAfter = config.outlierDetection?.consecutiveFailures ?? 5;
    this.ejectionMs = config.outlierDetection?.ejectionMs ?? 30_000;
    for (const t of this.targets) this.metrics.upstreamHealthy.set({ upstream: name, target: t.origin }, 1);
  }

  /** Starts active health checks (if configured). */
  start(): void {
    const hc = this.config.healthCheck;
    if (!hc || this.healthTimer) return;
    const run = () => void this.checkAll();
    this.healthTimer = setInterval(run, hc.intervalMs ?? 5_000);
    this.healthTimer.unref();
    run();
  }

  private async checkAll(): Promise<void> {
    const hc = this.config.healthCheck!;
    const expect = new Set(hc.expectStatus ?? [200, 204]);
    await Promise.all(
      this.targets.map(async (target) => {
        let ok = false;
        try {
          const res = await target.pool.request({
            method: 'GET',
            path: hc.path,
            headers: { 'user-agent': 'portcullis-health-check' },
            signal: AbortSignal.timeout(hc.timeoutMs ?? 2_000),
          });
          await res.body.dump();
          ok = expect.has(res.statusCode);
        } catch {
          ok = false;
        }
        if (this.closed) return;
        if (target.recordCheck(ok, hc.healthyThreshold ?? 2, hc.unhealthyThreshold ?? 2)) {
          this.metrics.upstreamHealthy.set(
            { upstream: this.name, target: target.origin },
            target.healthy ? 1 : 0,
          );
          this.logger.warn(
            { upstream: this.name, target: target.origin, healthy: target.healthy },
            'upstream target health changed',
          );
        }
      }),
    );
  }

  /**
   * Picks a target. Passive ejection never empties an upstream: when every healthy target is
   * ejected, ejection is ignored (panic mode, as Envoy), so one bad minute cannot take it down.
   */
  private pick(now: number, exclude: Target | undefined): Target | undefined {
    const found = this.pickAvailable(now, exclude);
    if (found) return found;
    if (this.targets.some((t) => t.healthy && t.ejectedUntil > now))
      return this.pickAvailable(Number.POSITIVE_INFINITY, exclude);
    return undefined;
  }

  private pickAvailable(now: number, exclude: Target | undefined): Target | undefined {
    let best: Target | undefined;
    if (this.balance === 'least_connections') {
      let bestScore = Infinity;
      for (const t of this.targets) {
        if (t === exclude || !t.available(now)) continue;
        const score = (t.inFlight + 1) / t.weight;
        if (score < bestScore) {
          bestScore = score;
          best = t;
        }
      }
      return best ?? (exclude?.available(now) ? exclude : undefined);
    }
    // Smooth weighted round robin (as nginx): even spread, respects weights.
    let total = 0;
    for (const t of this.targets) {
      if (t === exclude || !t.available(now)) continue;
      t.currentWeight += t.weight;
      total += t.weight;
      if (best === undefined || t.currentWeight > best.currentWeight) best = t;
    }
    if (best) best.currentWeight -= total;
    return best ?? (exclude?.available(now) ? exclude : undefined);
  }

  /** Sends one request, with retries for idempotent requests whose body can be replayed. */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    this.budget.onRequest();
    const replayable = !(request.body !== undefined && !Buffer.isBuffer(request.body));
    const canRetry = replayable && IDEMPOTENT.has(request.method) && this.attempts > 0;
    let signal = request.signal;
    let totalTimer: NodeJS.Timeout | undefined;
    if (this.totalMs > 0) {
      const abort = (signal ??= new UpstreamAbort());
      totalTimer = setTimeout(() => abort.abort('timeout'), this.totalMs);
      // The body may still stream after headers: the total timeout covers the whole exchange.
      const clear = () => clearTimeout(totalTimer);
      abort.once('abort', clear);
      abort.once('done', clear);
    }
    let previous: Target | undefined;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      if (this.breaker && !this.breaker.allow(now)) {
        clearTimeout(totalTimer);
        throw new GatewayError('circuit_open', { headers: { 'retry-after': '5' }, reason: 'circuit_open' });
      }
      const target = this.pick(now, previous);
      if (!target) {
        clearTimeout(totalTimer);
        throw new GatewayError('no_healthy_upstream', {
          headers: { 'retry-after': '5' },
          reason: 'no_healthy_target',
        });
      }
      previous = target;
      target.inFlight++;
      let released = false;
      const release = (ok: boolean) => {
        if (released) return;
        released = true;
        target.inFlight--;
        this.record(target, ok);
      };
      try {
        const options: Dispatcher.RequestOptions = {
          method: request.method as Dispatcher.HttpMethod,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          ...(signal ? { signal: signal as unknown as EventEmitter } : {}),
        };
        const res = await target.pool.request(options);
        const retryable = canRetry && attempt < this.attempts && this.retryStatus.has(res.statusCode);
        if (retryable && this.budget.tryRetry()) {
          release(false);
          await res.body.dump().catch(() => undefined);
          continue;
        }
        return {
          statusCode: res.statusCode,
          headers: res.headers,
          body: res.body,
          target: target.origin,
          done: (ok: boolean) => {
            signal?.emit('done');
            release(ok && res.statusCode < 500);
          },
        };
      } catch (error) {
        release(false);
        const mapped = mapUpstreamError(error, signal);
        if (
          canRetry &&
          attempt < this.attempts &&
          mapped.code === 'upstream_unavailable' &&
          this.budget.tryRetry()
        )
          continue;
        clearTimeout(totalTimer);
        throw mapped;
      }
    }
  }

  private record(target: Target, ok: boolean): void {
    if (ok) {
      target.consecutiveFailures = 0;
      this.breaker?.success();
      return;
    }
    this.breaker?.failure();
    target.consecutiveFailures++;
    if (target.consecutiveFailures >= this.ejectAfter && target.ejectedUntil <= Date.now()) {
      target.ejectedUntil = Date.now() + this.ejectionMs;
      target.consecutiveFailures = 0;
      this.logger.warn(
        { upstream: this.name, target: target.origin, ejectionMs: this.ejectionMs },
        'upstream target ejected',
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    await Promise.all(this.targets.map((t) => t.pool.close().catch(() => undefined)));
  }
}

/** Maps an undici failure to a catalogued error: unreachable → 502, timeout → 504. */
export function mapUpstreamError(error: unknown, signal: UpstreamAbort | undefined): GatewayError {
  if (error instanceof GatewayError) return error;
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    signal?.reason === 'timeout'
  ) {
    return new GatewayError('upstream_timeout', { reason: (error as Error).name, cause: error });
  }
  if (
    error instanceof undiciErrors.ResponseExceededMaxSizeError ||
    error instanceof undiciErrors.HTTPParserError
  ) {
    return new GatewayError('upstream_bad_response', { reason: (error as Error).name, cause: error });
  }
  return new GatewayError('upstream_unavailable', {
    reason: (error as NodeJS.ErrnoException).code ?? (error as Error).name,
    cause: error,
  });
}
