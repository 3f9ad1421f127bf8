import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { endToEndResponseHeaderList, endToEndResponseHeaders, headerListToRecord } from './headers.js';
import { RetryBudget } from './retry-budget.js';
import { DeadlineWatch, sweepIntervalFor, type Watched } from './deadline-watch.js';
import { Target, upstreamTimeouts } from './target.js';

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** A flat `[name, value, ...]` list (see proxy/headers.ts). */
  readonly headers: string[];
  /** A stream (not retryable), a buffer, or nothing. */
  readonly body: Readable | Buffer | undefined;
}

/** The status line and headers of an upstream answer. */
export interface UpstreamHead {
  readonly statusCode: number;
  /**
   * End-to-end headers only (hop-by-hop dropped), names lower-case, repeated names as arrays;
   * the receiver may change them. Built on first use.
   */
  readonly headers: Record<string, string | string[]>;
  /**
   * The same headers as a flat `[name, value, ...]` list in the upstream's order, without those
   * `skip` names; only while `onHead` runs, and only before `headers` is read.
   */
  headerList(skip: (name: string) => boolean): string[];
  /** The target's origin, for logs. */
  readonly target: string;
}

/**
 * undici's raw header buffers are views into its parser's memory: they are read while `onHead`
 * runs, and `seal` keeps the object form (unless the list was taken) for later readers.
 */
class Head implements UpstreamHead {
  private record: Record<string, string | string[]> | undefined = undefined;
  private raw: readonly Buffer[] | undefined;
  /** Set when the headers were taken as a list (the object form is then built from it). */
  private list: string[] | undefined = undefined;

  constructor(
    readonly statusCode: number,
    raw: readonly Buffer[],
    readonly target: string,
  ) {
    this.raw = raw;
  }

  get headers(): Record<string, string | string[]> {
    if (this.record === undefined) {
      this.record =
        this.raw !== undefined ? endToEndResponseHeaders(this.raw) : headerListToRecord(this.list!);
      this.raw = undefined;
    }
    return this.record;
  }

  headerList(skip: (name: string) => boolean): string[] {
    if (this.raw === undefined) throw new Error('upstream head: headers already read as an object');
    this.list = endToEndResponseHeaderList(this.raw, skip);
    this.raw = undefined;
    return this.list;
  }

  seal(): void {
    if (this.raw !== undefined) void this.headers;
  }
}

/**
 * Receives one upstream exchange. Callbacks instead of a promise and a Readable body: undici's
 * dispatch API hands chunks straight to the client response, which saves a stream, a promise and
 * half a dozen listeners per request (see bench/RESULTS.md).
 */
export interface UpstreamSink {
  /** The final answer's head (after any retries). Call `resume` to continue a paused body. */
  onHead(head: UpstreamHead, resume: () => void): void;
  /** A body chunk; return false to pause the upstream until `resume` is called. */
  onData(chunk: Buffer): boolean;
  /** The body is complete. */
  onEnd(): void;
  /**
   * The exchange failed: before `onHead` with the error to answer with, or after it (the body was
   * cut). Not called for an exchange aborted with `client_closed`.
   */
  onError(error: GatewayError, afterHead: boolean): void;
}

export type AbortReason = 'client_closed' | 'timeout' | 'discarded';

/** A running upstream exchange. */
export interface UpstreamCall {
  /** Stops the exchange: the client went away, the total timeout fired, or the body is unwanted. */
  abort(reason: AbortReason): void;
}

/** No body or a buffered one: it can be sent again, and its upload ends with the write. */
function isBuffered(request: UpstreamRequest): boolean {
  return request.body === undefined || Buffer.isBuffer(request.body);
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
  /** @internal Timeouts (ms, 0 = none) and the watch that enforces them, read by {@link Exchange}. */
  readonly headersMs: number;
  /** @internal */
  readonly bodyMs: number;
  /** @internal */
  readonly totalMs: number;
  /** @internal */
  readonly deadlines: DeadlineWatch;
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
    const timeouts = upstreamTimeouts(config);
    this.headersMs = timeouts.headersMs;
    this.bodyMs = timeouts.bodyMs;
    this.totalMs = timeouts.totalMs;
    this.deadlines = new DeadlineWatch(sweepIntervalFor([this.headersMs, this.bodyMs, this.totalMs]));
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

  /**
   * Sends one request, with retries for idempotent requests whose body can be replayed. Events
   * reach `sink`, possibly before this returns (e.g. when no target is available).
   */
  dispatch(request: UpstreamRequest, sink: UpstreamSink): UpstreamCall {
    this.budget.onRequest();
    const exchange = new Exchange(this, request, sink);
    exchange.start();
    return exchange;
  }

  /** @internal Retry policy, read by {@link Exchange}. */
  canRetry(request: UpstreamRequest): boolean {
    return isBuffered(request) && this.attempts > 0 && IDEMPOTENT.has(request.method);
  }

  /** @internal */
  retryOn(status: number, attempt: number): boolean {
    return attempt < this.attempts && this.retryStatus.has(status) && this.budget.tryRetry();
  }

  /** @internal */
  retryOnError(code: string, attempt: number): boolean {
    return attempt < this.attempts && code === 'upstream_unavailable' && this.budget.tryRetry();
  }

  /** @internal Picks a target for an attempt, or throws the error to answer with. */
  acquire(previous: Target | undefined): Target {
    const now = Date.now();
    if (this.breaker && !this.breaker.allow(now)) {
      throw new GatewayError('circuit_open', { headers: { 'retry-after': '5' }, reason: 'circuit_open' });
    }
    const target = this.pick(now, previous);
    if (!target) {
      throw new GatewayError('no_healthy_upstream', {
        headers: { 'retry-after': '5' },
        reason: 'no_healthy_target',
      });
    }
    target.inFlight++;
    return target;
  }

  /** @internal Ends an attempt on `target`: feeds the breaker and outlier detection. */
  release(target: Target, ok: boolean): void {
    target.inFlight--;
    this.record(target, ok);
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
    // pools close once their requests are done; until then their deadlines still apply
    await Promise.all(this.targets.map((t) => t.pool.close().catch(() => undefined)));
    this.deadlines.stop();
  }
}

/** Maps an undici failure to a catalogued error: unreachable → 502, timeout → 504. */
export function mapUpstreamError(error: unknown, aborted: AbortReason | undefined): GatewayError {
  if (error instanceof GatewayError) return error;
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    aborted === 'timeout'
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

/** Body bytes drained (to keep the connection) from an answer nobody wants, before aborting. */
const DRAIN_LIMIT = 64 * 1024;

/** A finished exchange's sink and request: nothing of the client's exchange is kept. */
const DETACHED: UpstreamSink = {
  onHead: () => undefined,
  onData: () => true,
  onEnd: () => undefined,
  onError: () => undefined,
};
const DETACHED_REQUEST: UpstreamRequest = { method: 'GET', path: '/', headers: [], body: undefined };

/** What an exchange's timeouts watch (streamed uploads are timed by undici, see `start`). */
const UNTIMED = 0;
const AWAITING_HEADERS = 1;
const RECEIVING_BODY = 2;

/**
 * One upstream exchange on undici's dispatch API (legacy handler methods: no wrapper per call).
 * Its headers, body-idle and total timeouts are deadlines checked by the upstream's
 * {@link DeadlineWatch}: no timer per exchange (see deadline-watch.ts for why).
 */
class Exchange implements Dispatcher.DispatchHandler, UpstreamCall, Watched {
  watchPrev: Watched | undefined = undefined;
  watchNext: Watched | undefined = undefined;
  watching = false;
  private attempt = 0;
  private target: Target | undefined;
  private released = true;
  private abortUndici: ((error: Error) => void) | undefined;
  private aborted: AbortReason | undefined;
  /** The error a timeout aborts with (given to undici, or in `onConnect` if not yet connected). */
  private abortError: Error | undefined;
  /** Streamed request bodies are timed by undici: their headers wait starts when the upload ends. */
  private readonly timed: boolean;
  private phase = UNTIMED;
  /** `performance.now()` past which the current phase has timed out. */
  private phaseDeadline = Infinity;
  private readonly totalDeadline: number;
  /** A body chunk arrived (or the client resumed a paused body) since the last sweep. */
  private activity = false;
  /** The client is slow and has paused the body: the upstream is not idle. */
  private paused = false;
  /** Draining an answer that will be retried (or that nobody wants): chunks are dropped. */
  private draining = false;
  private drained = 0;
  /** We cut the connection of an answer being drained. */
  private cut = false;
  private headSent = false;
  private finished = false;
  private resume: (() => void) | undefined;
  private status = 0;
  private readonly retryable: boolean;

  private request: UpstreamRequest;
  private sink: UpstreamSink;

  constructor(
    private readonly upstream: Upstream,
    request: UpstreamRequest,
    sink: UpstreamSink,
  ) {
    this.request = request;
    this.sink = sink;
    this.retryable = upstream.canRetry(request);
    this.timed = isBuffered(request);
    const total = upstream.totalMs;
    this.totalDeadline = total > 0 ? performance.now() + total : Infinity;
  }

  start(): void {
    let target: Target;
    try {
      target = this.upstream.acquire(this.target);
    } catch (error) {
      this.fail(error as GatewayError);
      return;
    }
    this.target = target;
    this.released = false;
    this.draining = false;
    this.abortUndici = undefined;
    const upstream = this.upstream;
    if (this.timed) {
      // From the dispatch, so time spent waiting for a pooled connection counts too.
      this.phase = AWAITING_HEADERS;
      this.phaseDeadline = upstream.headersMs > 0 ? performance.now() + upstream.headersMs : Infinity;
    }
    if (this.timed || this.totalDeadline !== Infinity) upstream.deadlines.watch(this);
    const request = this.request;
    target.pool.dispatch(
      {
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        // A streamed upload is still being sent while undici waits for the headers; undici's own
        // timers know that (they do not fire while the upload flows). 0: the watch times it.
        headersTimeout: this.timed ? 0 : upstream.headersMs,
        bodyTimeout: this.timed ? 0 : upstream.bodyMs,
      },
      this,
    );
  }

  abort(reason: AbortReason): void {
    if (this.finished || this.aborted !== undefined) return;
    if (reason === 'discarded') {
      if (!this.headSent || this.draining) return;
      // Keep the connection when the rest of the body is small: drain it (onData aborts past a limit).
      this.draining = true;
      this.drained = 0;
      this.resume?.();
      return;
    }
    this.aborted = reason;
    this.upstream.deadlines.unwatch(this);
    const error = this.abortError ?? new Error(`upstream call aborted: ${reason}`);
    if (this.abortUndici !== undefined) {
      this.abortUndici(error);
      return;
    }
    // Still waiting in the pool for a connection: undici aborts it when it gets one (onConnect),
    // which may be long after a timeout. The client is answered now.
    if (reason === 'timeout') {
      this.releaseTarget(false);
      this.fail(mapUpstreamError(error, reason));
    }
  }

  isExpired(now: number): boolean {
    if (now >= this.totalDeadline) {
      this.abortError = new Error('upstream call aborted: total timeout');
      return true;
    }
    if (this.phase === AWAITING_HEADERS) {
      if (now < this.phaseDeadline) return false;
      this.abortError = new undiciErrors.HeadersTimeoutError();
      return true;
    }
    if (this.phase === RECEIVING_BODY) {
      if (this.activity || this.paused) {
        this.activity = false;
        this.phaseDeadline = this.upstream.bodyMs > 0 ? now + this.upstream.bodyMs : Infinity;
        return false;
      }
      if (now < this.phaseDeadline) return false;
      this.abortError = new undiciErrors.BodyTimeoutError();
      return true;
    }
    return false;
  }

  expire(): void {
    this.abort('timeout');
  }

  onConnect(abort: (error: Error) => void): void {
    if (this.aborted !== undefined) {
      abort(this.abortError ?? new Error(`upstream call aborted: ${this.aborted}`));
      return;
    }
    this.abortUndici = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.timed) {
      this.phase = RECEIVING_BODY;
      this.activity = true;
    }
    if (this.retryable && this.upstream.retryOn(statusCode, this.attempt)) {
      this.releaseTarget(false);
      this.draining = true;
      return true;
    }
    this.status = statusCode;
    this.headSent = true;
    this.resume = resume;
    const head = new Head(statusCode, rawHeaders, this.target!.origin);
    this.sink.onHead(
      head,
      this.timed
        ? () => {
            this.paused = false;
            this.activity = true;
            resume();
          }
        : resume,
    );
    head.seal();
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.activity = true;
    if (this.draining) {
      this.drained += chunk.length;
      if (this.drained > DRAIN_LIMIT && !this.cut) {
        // Too much to drain: cut the connection (a retry then starts at once, see onError).
        this.cut = true;
        this.abortUndici?.(new Error('upstream call aborted: unwanted body'));
      }
      return true;
    }
    if (this.sink.onData(chunk)) return true;
    this.paused = true;
    return false;
  }

  onComplete(): void {
    if (this.draining && !this.headSent) {
      // A retryable status: its body is drained, try the next target.
      this.nextAttempt();
      return;
    }
    const sink = this.finish();
    this.releaseTarget(this.status < 500);
    if (!this.draining) sink.onEnd();
  }

  onError(error: Error): void {
    if (this.finished) return;
    if (this.draining && !this.headSent && this.aborted === undefined) {
      // The body of a retryable status was cut or failed: retry anyway.
      this.nextAttempt();
      return;
    }
    const reason = this.aborted;
    if (reason === 'discarded' || (this.draining && this.headSent)) {
      // We cut an unwanted body: not the upstream's fault.
      this.finish();
      this.releaseTarget(this.status < 500);
      return;
    }
    this.releaseTarget(false);
    if (reason === 'client_closed') {
      this.finish();
      return;
    }
    const mapped = mapUpstreamError(error, reason);
    if (this.headSent) {
      this.finish().onError(mapped, true);
      return;
    }
    if (reason === undefined && this.retryable && this.upstream.retryOnError(mapped.code, this.attempt)) {
      this.nextAttempt();
      return;
    }
    this.fail(mapped);
  }

  private nextAttempt(): void {
    this.attempt++;
    this.drained = 0;
    this.cut = false;
    this.start();
  }

  private fail(error: GatewayError): void {
    this.finish().onError(error, false);
  }

  /**
   * Ends the exchange and returns its sink. undici keeps a finished request (and so this handler)
   * in its connection's queue for up to 256 more requests: the references to the client's
   * request and response are dropped here so that they die young instead of with it.
   */
  private finish(): UpstreamSink {
    this.finished = true;
    this.upstream.deadlines.unwatch(this);
    const sink = this.sink;
    this.sink = DETACHED;
    this.request = DETACHED_REQUEST;
    this.resume = undefined;
    return sink;
  }

  private releaseTarget(ok: boolean): void {
    if (this.released) return;
    this.released = true;
    this.upstream.release(this.target!, ok);
  }
}
