import { LRUCache } from 'lru-cache';
import { gcraStep, reserveStep, windowStep, type WindowState } from './algorithms.js';
import type {
  CounterStore,
  Decision,
  GcraSpec,
  QuotaCount,
  Reservation,
  ReserveSpec,
  WindowSpec,
} from './types.js';

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used is dropped beyond it (default 100 000). */
  readonly maxKeys?: number;
  /** Clock in milliseconds (tests inject one). */
  readonly now?: () => number;
}

interface Entry {
  /** TAT, count, or the window state. */
  value: number;
  window: WindowState | undefined;
  /** Absolute expiry (ms); an expired entry reads as absent. */
  expiresAt: number;
}

/**
 * Exact counters for one process, bounded in size. Expiry is checked on read, and expired
 * entries age out of the LRU order, so the map never grows past `maxKeys`.
 */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly entries: LRUCache<string, Entry>;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.entries = new LRUCache<string, Entry>({ max: options.maxKeys ?? 100_000 });
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > now ? entry : undefined;
  }

  gcra(key: string, spec: GcraSpec, cost: number): Decision {
    const now = this.now();
    const entry = this.live(key, now);
    const outcome = gcraStep(entry?.value ?? 0, now, spec, cost);
    if (outcome.tat !== undefined) this.write(key, entry, outcome.tat, outcome.tat);
    return outcome.decision;
  }

  slidingWindow(key: string, spec: WindowSpec, cost: number): Decision {
    const now = this.now();
    let entry = this.live(key, now);
    if (entry?.window === undefined) {
      entry = { value: 0, window: { index: 0, current: 0, previous: 0 }, expiresAt: 0 };
      this.entries.set(key, entry);
    }
    const decision = windowStep(entry.window as WindowState, now, spec, cost);
    entry.expiresAt = (Math.floor(now / spec.windowMs) + 2) * spec.windowMs;
    return decision;
  }

  reserve(key: string, spec: ReserveSpec): Reservation {
    const now = this.now();
    const entry = this.live(key, now);
    const outcome = reserveStep(entry?.value ?? 0, now, spec);
    if (outcome.tat !== undefined) this.write(key, entry, outcome.tat, outcome.tat);
    return outcome.reservation;
  }

  increment(key: string, cost: number, limit: number, ttlMs: number): QuotaCount {
    const now = this.now();
    const entry = this.live(key, now);
    const count = entry?.value ?? 0;
    if (count + cost > limit) return { allowed: false, count };
    this.write(key, entry, count + cost, now + ttlMs);
    return { allowed: true, count: count + cost };
  }

  count(key: string): number {
    return this.live(key, this.now())?.value ?? 0;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private write(key: string, entry: Entry | undefined, value: number, expiresAt: number): void {
    if (entry === undefined) {
      this.entries.set(key, { value, window: undefined, expiresAt });
    } else {
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
  }
}
