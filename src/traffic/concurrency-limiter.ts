interface Waiter {
  settled: boolean;
  resolve: (granted: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A counting semaphore with a bounded FIFO wait queue. `acquire` answers synchronously when a
 * slot is free (the common case), otherwise with a promise that settles true when a slot is
 * handed over or false when the wait times out. Every granted acquire needs exactly one release.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private waiting = 0;
  private queue: Waiter[] = [];
  private head = 0;

  constructor(
    private max: number,
    private maxQueue: number,
    private queueTimeoutMs: number,
  ) {}

  /** Limits may change on reload; queued requests keep their place. */
  update(max: number, maxQueue: number, queueTimeoutMs: number): void {
    this.max = max;
    this.maxQueue = maxQueue;
    this.queueTimeoutMs = queueTimeoutMs;
    this.drain();
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting;
  }

  acquire(): boolean | Promise<boolean> {
    if (this.active < this.max && this.waiting === 0) {
      this.active++;
      return true;
    }
    if (this.waiting >= this.maxQueue) return false;
    this.waiting++;
    if (this.queue.length - this.head > 2 * this.maxQueue + 64) {
      // waits that timed out stay in the array until drained: compact so it stays bounded
      this.queue = this.queue.slice(this.head).filter((w) => !w.settled);
      this.head = 0;
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { settled: false, resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        waiter.settled = true;
        this.waiting--;
        resolve(false);
      }, this.queueTimeoutMs);
      this.queue.push(waiter);
    });
  }

  release(): void {
    this.active--;
    this.drain();
  }

  private drain(): void {
    while (this.active < this.max && this.head < this.queue.length) {
      const waiter = this.queue[this.head++] as Waiter;
      if (waiter.settled) continue;
      clearTimeout(waiter.timer);
      waiter.settled = true;
      this.waiting--;
      this.active++;
      waiter.resolve(true);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
