/**
 * Caps retries at a share of recent traffic: every request earns `percent/100` of a retry token,
 * every retry spends one; the balance is capped so a quiet period cannot bank a retry storm.
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly percent: number,
    private readonly cap = 10,
  ) {
    this.tokens = Math.min(cap, 1);
  }

  onRequest(): void {
    this.tokens = Math.min(this.cap, this.tokens + this.percent / 100);
  }

  tryRetry(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
