import type { CredentialStore } from '../store/types.js';
import type { Logger } from '../observe/logger.js';

/**
 * Collects API-key uses in memory and writes them to the store in one batch every few seconds,
 * instead of one write per request. Precision is the flush interval.
 */
export class LastUsedRecorder {
  private used = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: CredentialStore,
    intervalMs: number,
    private readonly logger?: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  record(lookupId: string): void {
    this.used.add(lookupId);
  }

  get pendingCount(): number {
    return this.used.size;
  }

  async flush(): Promise<void> {
    if (this.used.size === 0) return;
    const batch = [...this.used];
    this.used = new Set();
    try {
      await this.store.touchLastUsed(batch, Date.now());
    } catch (error) {
      this.logger?.warn({ err: error, keys: batch.length }, 'could not record API key last use');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
