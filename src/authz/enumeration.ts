import { LRUCache } from 'lru-cache';

interface CallerWindow {
  /** object id -> last refusal time (ms) */
  readonly ids: Map<string, number>;
  blockedUntil: number;
}

export interface RecordResult {
  /** True the moment the caller crosses the limit (audit once per episode). */
  readonly crossed: boolean;
  readonly distinct: number;
}

/**
 * Counts, per caller, the distinct object ids that drew a 403/404 within a sliding window. A
 * caller over the limit is flagged for one window. Memory is bounded: at most `maxCallers`
 * callers and `maxDistinctIds + 1` ids per caller are kept.
 */
export class EnumerationTracker {
  readonly maxDistinctIds: number;
  readonly windowMs: number;
  private readonly callers: LRUCache<string, CallerWindow>;

  constructor(options: { maxDistinctIds: number; windowMs: number; maxCallers?: number }) {
    this.maxDistinctIds = options.maxDistinctIds;
    this.windowMs = options.windowMs;
    this.callers = new LRUCache({ max: options.maxCallers ?? 10_000 });
  }

  record(caller: string, objectId: string, now: number): RecordResult {
    let window = this.callers.get(caller);
    if (window === undefined) {
      window = { ids: new Map(), blockedUntil: 0 };
      this.callers.set(caller, window);
    }
    if (window.blockedUntil > now) return { crossed: false, distinct: window.ids.size };
    const horizon = now - this.windowMs;
    for (const [id, at] of window.ids) if (at <= horizon) window.ids.delete(id);
    window.ids.delete(objectId);
    window.ids.set(objectId, now);
    if (window.ids.size > this.maxDistinctIds) {
      const distinct = window.ids.size;
      window.blockedUntil = now + this.windowMs;
      window.ids.clear();
      return { crossed: true, distinct };
    }
    return { crossed: false, distinct: window.ids.size };
  }

  /** Seconds until a flagged caller is let through again, or 0. */
  blockedFor(caller: string, now: number): number {
    const window = this.callers.get(caller);
    if (window === undefined || window.blockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((window.blockedUntil - now) / 1000));
  }
}
