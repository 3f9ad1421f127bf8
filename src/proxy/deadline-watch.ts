import { performance } from 'node:perf_hooks';

/** Something with deadlines that a {@link DeadlineWatch} checks on each sweep. */
export interface Watched {
  /** @internal Links of the watch's list (an intrusive list: watching allocates nothing). */
  watchPrev: Watched | undefined;
  /** @internal */
  watchNext: Watched | undefined;
  /** @internal */
  watching: boolean;
  /**
   * Called on each sweep with `performance.now()`: true when a deadline has passed. It may
   * update its own deadlines (e.g. push an idle deadline on after activity), nothing else.
   */
  isExpired(now: number): boolean;
  /** Called (after the sweep) for each watched item whose deadline passed; it was unwatched first. */
  expire(now: number): void;
}

/**
 * Coarse timeouts for many short-lived exchanges: one interval timer walks the in-flight list
 * instead of a timer per exchange. A deadline fires between 0 and `intervalMs` late, never early.
 *
 * Why: undici's own headers/body timeouts allocate two timer objects per request that stay
 * referenced for up to a second after they are cleared, so every one of them is promoted to the
 * old generation; at tens of thousands of requests per second that forced a major GC every
 * second or two, whose pauses made the proxy's p99 latency (bench/RESULTS.md, fifth session).
 * Watching costs a few property writes per exchange, and nothing while no exchange is in flight.
 */
export class DeadlineWatch {
  private head: Watched | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private count = 0;

  constructor(readonly intervalMs: number) {
    if (!(intervalMs > 0)) throw new TypeError('DeadlineWatch: intervalMs must be positive');
  }

  /** Number of watched items (for tests and metrics). */
  get size(): number {
    return this.count;
  }

  watch(item: Watched): void {
    if (item.watching) return;
    item.watching = true;
    item.watchPrev = undefined;
    item.watchNext = this.head;
    if (this.head !== undefined) this.head.watchPrev = item;
    this.head = item;
    this.count++;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      this.timer.unref();
    }
  }

  unwatch(item: Watched): void {
    if (!item.watching) return;
    item.watching = false;
    const { watchPrev: prev, watchNext: next } = item;
    if (prev === undefined) this.head = next;
    else prev.watchNext = next;
    if (next !== undefined) next.watchPrev = prev;
    item.watchPrev = undefined;
    item.watchNext = undefined;
    this.count--;
  }

  /** Checks every watched item once (the timer calls this; tests may too). */
  sweep(): void {
    const now = performance.now();
    let expired: Watched[] | undefined;
    for (let item = this.head; item !== undefined; item = item.watchNext) {
      if (item.isExpired(now)) (expired ??= []).push(item);
    }
    // Expiring aborts an exchange, which may start another or unwatch others: do it after the walk.
    if (expired !== undefined) {
      for (const item of expired) {
        if (!item.watching) continue;
        this.unwatch(item);
        item.expire(now);
      }
    }
    if (this.head === undefined) this.stop();
  }

  /** Stops the timer (watched items are kept; watching again restarts it). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The sweep interval for an upstream's timeouts: a tenth of the shortest, within 10–500 ms. */
export function sweepIntervalFor(timeoutsMs: readonly number[]): number {
  const positive = timeoutsMs.filter((t) => t > 0);
  if (positive.length === 0) return 500;
  return Math.min(500, Math.max(10, Math.floor(Math.min(...positive) / 10)));
}
