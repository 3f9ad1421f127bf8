import type { Decision, GcraSpec, Reservation, ReserveSpec, WindowSpec } from './types.js';

/**
 * The decision arithmetic, shared by the memory store and mirrored line for line by the Redis
 * scripts (redis-scripts.ts). Times are milliseconds; `tat` is the GCRA theoretical arrival time.
 */

/** Float tolerance so that sums of fractional emission intervals never refuse an exact fit. */
const EPSILON_MS = 1e-6;

/**
 * One GCRA decision as a single signed number, the form the Redis script answers with:
 * `newTat - now` (>= 0) when admitted, `-(allowAt - now)` (< 0: minus the wait) when refused.
 * The caller stores `now + offset` as the new TAT when it is admitted.
 */
export function gcraOffset(storedTat: number, now: number, spec: GcraSpec, cost: number): number {
  const tat = storedTat > now ? storedTat : now;
  const newTat = tat + cost * spec.emissionMs;
  const allowAt = newTat - spec.burst * spec.emissionMs;
  return allowAt > now + EPSILON_MS ? now - allowAt : newTat - now;
}

/**
 * A decision as a class instance: its fields keep one shape whatever numbers they hold (an object
 * literal's fields change representation between whole and fractional milliseconds, and V8 then
 * rebuilds its map on every call: bench/icount.ts measured ~4 000 instructions per decision).
 */
class GcraDecision implements Decision {
  constructor(
    readonly allowed: boolean,
    readonly remaining: number,
    readonly retryAfterMs: number,
    readonly resetMs: number,
  ) {}
}

/** The decision an offset from `gcraOffset` (or the Redis script) stands for. */
export function gcraDecision(offset: number, spec: GcraSpec, cost: number): Decision {
  const burstMs = spec.burst * spec.emissionMs;
  if (offset < 0) {
    // refused: allowAt - now = -offset; tat - now = allowAt - now + (burst - cost) * T
    return new GcraDecision(false, 0, -offset, burstMs - cost * spec.emissionMs - offset);
  }
  // admitted: now - allowAt = burst * T - (newTat - now); a whole count that float arithmetic
  // left a hair below itself (3 * T - T = 1.9999999999999998 * T) still counts as whole
  return new GcraDecision(true, Math.floor(((burstMs - offset) / spec.emissionMs) * (1 + 1e-12)), 0, offset);
}

export interface WindowState {
  index: number;
  current: number;
  previous: number;
}

/** Sliding-window counter step; mutates `state` only when the request is admitted. */
export function windowStep(state: WindowState, now: number, spec: WindowSpec, cost: number): Decision {
  const index = Math.floor(now / spec.windowMs);
  if (index !== state.index) {
    state.previous = index === state.index + 1 ? state.current : 0;
    state.current = 0;
    state.index = index;
  }
  const elapsed = now - index * spec.windowMs;
  const weight = (spec.windowMs - elapsed) / spec.windowMs;
  const estimate = state.previous * weight + state.current;
  const resetMs = spec.windowMs - elapsed;
  if (estimate + cost > spec.limit) {
    let retryAfterMs: number;
    const room = spec.limit - state.current - cost;
    if (room >= 0 && state.previous > 0) {
      retryAfterMs = spec.windowMs * (1 - room / state.previous) - elapsed;
    } else {
      // the current window alone is full: wait for it to become the (shrinking) previous one
      const roomNext = spec.limit - cost;
      retryAfterMs =
        resetMs + (state.current > 0 && roomNext >= 0 ? spec.windowMs * (1 - roomNext / state.current) : 0);
    }
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs), resetMs };
  }
  state.current += cost;
  return { allowed: true, remaining: Math.floor(spec.limit - estimate - cost), retryAfterMs: 0, resetMs };
}

export interface ReserveOutcome {
  readonly reservation: Reservation;
  readonly tat: number | undefined;
}

/** Leaky bucket (nginx `limit_req` with `burst` and `delay`) expressed as a GCRA reservation. */
export function reserveStep(storedTat: number, now: number, spec: ReserveSpec): ReserveOutcome {
  const tat = storedTat > now ? storedTat : now;
  const queuedMs = tat - now;
  const maxQueuedMs = spec.burst * spec.emissionMs;
  if (queuedMs > maxQueuedMs + EPSILON_MS) {
    return {
      reservation: { allowed: false, delayMs: 0, retryAfterMs: queuedMs - maxQueuedMs },
      tat: undefined,
    };
  }
  const delayMs = queuedMs - spec.delayFree * spec.emissionMs;
  return {
    reservation: { allowed: true, delayMs: delayMs > 0 ? delayMs : 0, retryAfterMs: 0 },
    tat: tat + spec.emissionMs,
  };
}
