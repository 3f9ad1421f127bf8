import { LRUCache } from 'lru-cache';

export interface BruteForceSettings {
  /** Failures within the window after which the address or key id is blocked. */
  readonly maxFailures: number;
  readonly windowSec: number;
  readonly blockSec: number;
  /** Delay added to each failed answer once half of `maxFailures` is reached. */
  readonly delayMs: number;
}

export const DEFAULT_BRUTE_FORCE: BruteForceSettings = {
  maxFailures: 10,
  windowSec: 60,
  blockSec: 300,
  delayMs: 250,
};

export type BruteForceSubject = 'ip' | 'key';

export interface BruteForceEntry {
  count: number;
  windowStart: number;
  blockedUntil: number;
}

/** The per-process failure counters; shared across config reloads. */
export class BruteForceState extends LRUCache<string, BruteForceEntry> {
  /**
   * The latest block end ever recorded here (ms since epoch). Until something is blocked, and
   * again once every block has ended, the per-request checks need no look-up (nor a key string).
   */
  latestBlockEnd = 0;
}

export function createBruteForceState(max = 100_000): BruteForceState {
  return new BruteForceState({ max });
}

export interface FailureVerdict {
  /** Milliseconds to wait before answering (slows guessing down). */
  readonly delayMs: number;
  /** True when this failure tipped the subject into a block. */
  readonly blocked: boolean;
  /** End of that block (ms since epoch), when `blocked`. */
  readonly until?: number;
}

/**
 * Counts failed authentications per client address and per API-key look-up id in fixed windows;
 * slows answers down past half the limit and blocks the subject for `blockSec` at the limit.
 * Counters are per process: with N nodes an attacker gets at most N times the budget.
 */
export class BruteForceGuard {
  constructor(
    readonly settings: BruteForceSettings,
    private readonly state: BruteForceState = createBruteForceState(),
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds left on a block (0 when not blocked). */
  blockedSeconds(subject: BruteForceSubject, id: string): number {
    const latest = this.state.latestBlockEnd;
    if (latest === 0) return 0;
    const now = this.now();
    if (latest <= now) return 0;
    const entry = this.state.get(`${subject}:${id}`);
    if (entry === undefined) return 0;
    const left = entry.blockedUntil - now;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Applies a block decided elsewhere (another node); never shortens an existing one. */
  applyBlock(subject: BruteForceSubject, id: string, until: number): void {
    applyBlock(this.state, subject, id, until);
  }

  recordFailure(subject: BruteForceSubject, id: string): FailureVerdict {
    const key = `${subject}:${id}`;
    const now = this.now();
    let entry = this.state.get(key);
    if (entry === undefined || now - entry.windowStart >= this.settings.windowSec * 1000) {
      entry = { count: 0, windowStart: now, blockedUntil: entry?.blockedUntil ?? 0 };
      this.state.set(key, entry);
    }
    entry.count += 1;
    let blocked = false;
    if (entry.count >= this.settings.maxFailures && entry.blockedUntil <= now) {
      entry.blockedUntil = now + this.settings.blockSec * 1000;
      noteBlockEnd(this.state, entry.blockedUntil);
      entry.count = 0;
      entry.windowStart = now;
      blocked = true;
    }
    const delayMs = blocked || entry.count * 2 >= this.settings.maxFailures ? this.settings.delayMs : 0;
    return blocked ? { delayMs, blocked, until: entry.blockedUntil } : { delayMs, blocked };
  }
}

/** Records a block in the shared state (idempotent; keeps the later end). */
export function applyBlock(
  state: BruteForceState,
  subject: BruteForceSubject,
  id: string,
  until: number,
): void {
  const key = `${subject}:${id}`;
  const entry = state.get(key);
  if (entry === undefined) state.set(key, { count: 0, windowStart: 0, blockedUntil: until });
  else entry.blockedUntil = Math.max(entry.blockedUntil, until);
  noteBlockEnd(state, until);
}

function noteBlockEnd(state: BruteForceState, until: number): void {
  if (until > state.latestBlockEnd) state.latestBlockEnd = until;
}
