/**
 * Per-upstream circuit breaker: opens after `failureThreshold` consecutive failures, lets
 * `halfOpenRequests` probes through after `resetMs`, closes on a successful probe.
 */
export class CircuitBreaker {
  private state: 'closed' | 'open' | 'half_open' = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probes = 0;

  constructor(
    private readonly failureThreshold: number,
    private readonly resetMs: number,
    private readonly halfOpenRequests: number,
  ) {}

  get current(): 'closed' | 'open' | 'half_open' {
    return this.state;
  }

  /** True when a request may be sent now. */
  allow(now = Date.now()): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt < this.resetMs) return false;
      this.state = 'half_open';
      this.probes = 0;
    }
    if (this.probes >= this.halfOpenRequests) return false;
    this.probes++;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.state = 'closed';
  }

  failure(now = Date.now()): void {
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = now;
    }
  }
}
