import { LRUCache } from 'lru-cache';
import type { CounterStore, QuotaCount } from '../counters/types.js';

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

export interface BruteForceOptions {
  /**
   * A counter store every node shares (Redis): failures are counted there, so N nodes or
   * workers give an attacker one budget, not N. Without it, failures are counted per process.
   */
  readonly counters?: CounterStore;
  /** Told when the shared store fails; that failure is then counted in this process. */
  readonly onStoreError?: (error: unknown) => void;
  /** Told when this node blocks a subject (to share the block with the other nodes). */
  readonly onBlock?: (subject: BruteForceSubject, id: string, until: number) => void;
}

/** Key prefix of the shared failure counts in the counter store. */
export const FAILURE_KEY_PREFIX = 'authn-failures:';

/**
 * Counts failed authentications per client address and per API-key look-up id; slows answers
 * down past half the limit and blocks the subject for `blockSec` at the limit. `countFailure`
 * counts in the shared counter store when one is given (a subject's count then expires
 * `windowSec` after its latest failure), else in this process's fixed windows
 * (`recordFailure`).
 */
export class BruteForceGuard {
  constructor(
    readonly settings: BruteForceSettings,
    private readonly state: BruteForceState = createBruteForceState(),
    private readonly now: () => number = Date.now,
    private readonly options: BruteForceOptions = {},
  ) {}

  /**
   * Counts one failure of the subject where the options say (the shared store, or this
   * process), applies and announces a block at the limit, and says how long to delay the answer.
   * A failing shared store never fails the request: the failure is counted here instead.
   */
  countFailure(subject: BruteForceSubject, id: string): FailureVerdict | Promise<FailureVerdict> {
    const counters = this.options.counters;
    if (counters === undefined) return this.#countLocally(subject, id);
    const key = `${FAILURE_KEY_PREFIX}${subject}:${id}`;
    const onError = (error: unknown): FailureVerdict => {
      this.options.onStoreError?.(error);
      return this.#countLocally(subject, id);
    };
    try {
      const windowMs = this.settings.windowSec * 1000;
      return Promise.resolve(counters.increment(key, 1, this.settings.maxFailures, windowMs)).then(
        (result) => this.#sharedVerdict(counters, key, subject, id, result),
        onError,
      );
    } catch (error) {
      return onError(error);
    }
  }

  #countLocally(subject: BruteForceSubject, id: string): FailureVerdict {
    const verdict = this.recordFailure(subject, id);
    if (verdict.until !== undefined) this.options.onBlock?.(subject, id, verdict.until);
    return verdict;
  }

  #sharedVerdict(
    counters: CounterStore,
    key: string,
    subject: BruteForceSubject,
    id: string,
    result: QuotaCount,
  ): FailureVerdict {
    const { maxFailures, delayMs } = this.settings;
    // below the limit: the store admitted this failure and holds its running count
    if (result.allowed && result.count < maxFailures) {
      return { delayMs: result.count * 2 >= maxFailures ? delayMs : 0, blocked: false };
    }
    // at the limit (or past it, when several nodes counted at once): block here and everywhere;
    // the count starts again once the block is over
    const until = this.now() + this.settings.blockSec * 1000;
    applyBlock(this.state, subject, id, until);
    this.options.onBlock?.(subject, id, until);
    try {
      void Promise.resolve(counters.delete(key)).catch((error: unknown) =>
        this.options.onStoreError?.(error),
      );
    } catch (error) {
      this.options.onStoreError?.(error);
    }
    return { delayMs, blocked: true, until };
  }

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

  /** Counts one failure in this process's fixed windows (countFailure without a shared store). */
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
