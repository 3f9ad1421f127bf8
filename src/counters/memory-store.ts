import { gcraDecision, gcraOffset, reserveStep, windowStep, type WindowState } from './algorithms.js';
import { LruMaps, type LruNode } from './lru-map.js';
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
  /** Clock in milliseconds (tests inject one; default: the monotonic `performance.now()`). */
  readonly now?: () => number;
}

interface Entry extends LruNode {
  /** TAT, count, or the window state. */
  value: number;
  window: WindowState | undefined;
  /** Absolute expiry (ms); an expired entry reads as absent. */
  expiresAt: number;
}

/**
 * Milliseconds since the process started: immune to wall-clock steps, and small enough that
 * sub-microsecond GCRA intervals (very high rates) are not lost to float rounding, as they would
 * be next to an epoch time (~1.8e12, where one ulp is ~0.24 µs).
 */
function monotonicNow(): number {
  return performance.now();
}

/**
 * The counters under one key prefix, looked up by the rest of the key: a per-request caller
 * (the rate limiter) passes the subject it already has instead of building `prefix + subject`
 * and hashing that new string. A keyspace's counters are its own: `keyspace(p).gcra(s)` and the
 * store's `gcra(p + s)` are different counters. All keyspaces share the store's size bound.
 */
export class MemoryKeyspace {
  constructor(
    private readonly lru: LruMaps<Entry>,
    private readonly entries: Map<string, Entry>,
    private readonly now: () => number,
  ) {}

  gcra(key: string, spec: GcraSpec, cost: number): Decision {
    const now = this.now();
    const entry = this.lru.get(this.entries, key);
    const stored = entry !== undefined && entry.expiresAt > now ? entry.value : 0;
    const offset = gcraOffset(stored, now, spec, cost);
    if (offset >= 0) {
      if (entry !== undefined && entry.expiresAt <= now) entry.window = undefined; // reused: as new
      this.write(key, entry, now + offset, now + offset);
    }
    return gcraDecision(offset, spec, cost);
  }

  slidingWindow(key: string, spec: WindowSpec, cost: number): Decision {
    const now = this.now();
    let entry = this.live(key, now);
    if (entry?.window === undefined) {
      entry = this.newEntry(key, 0, { index: 0, current: 0, previous: 0 }, 0);
      this.lru.add(entry);
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
    this.lru.delete(this.entries, key);
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.lru.get(this.entries, key);
    return entry !== undefined && entry.expiresAt > now ? entry : undefined;
  }

  /** Stores a value; an existing entry (live or expired) is reused in place. */
  private write(key: string, entry: Entry | undefined, value: number, expiresAt: number): void {
    if (entry === undefined) {
      this.lru.add(this.newEntry(key, value, undefined, expiresAt));
    } else {
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
  }

  private newEntry(key: string, value: number, window: WindowState | undefined, expiresAt: number): Entry {
    return { key, owner: this.entries, prev: undefined, next: undefined, value, window, expiresAt };
  }
}

/**
 * Exact counters for one process, bounded in size. Expiry is checked on read, and expired
 * entries age out of the LRU order, so the maps never hold more than `maxKeys` in total.
 */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly lru: LruMaps<Entry>;
  private readonly now: () => number;
  private readonly root: MemoryKeyspace;
  private readonly keyspaces = new Map<string, MemoryKeyspace>();

  constructor(options: MemoryStoreOptions = {}) {
    this.lru = new LruMaps<Entry>(options.maxKeys ?? 100_000);
    this.now = options.now ?? monotonicNow;
    this.root = new MemoryKeyspace(this.lru, this.lru.map(), this.now);
  }

  get size(): number {
    return this.lru.size;
  }

  /** The keyspace for `prefix` (the same one for every call with that prefix). */
  keyspace(prefix: string): MemoryKeyspace {
    let space = this.keyspaces.get(prefix);
    if (space === undefined) {
      space = new MemoryKeyspace(this.lru, this.lru.map(), this.now);
      this.keyspaces.set(prefix, space);
    }
    return space;
  }

  gcra(key: string, spec: GcraSpec, cost: number): Decision {
    return this.root.gcra(key, spec, cost);
  }

  slidingWindow(key: string, spec: WindowSpec, cost: number): Decision {
    return this.root.slidingWindow(key, spec, cost);
  }

  reserve(key: string, spec: ReserveSpec): Reservation {
    return this.root.reserve(key, spec);
  }

  increment(key: string, cost: number, limit: number, ttlMs: number): QuotaCount {
    return this.root.increment(key, cost, limit, ttlMs);
  }

  count(key: string): number {
    return this.root.count(key);
  }

  delete(key: string): void {
    this.root.delete(key);
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
