/**
 * IETF `RateLimit` / `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers-10):
 * Structured-Field lists of quoted policy names with parameters, e.g.
 * `RateLimit-Policy: "per-second";q=20;w=1` and `RateLimit: "per-second";r=7;t=1`.
 */

/**
 * Whole seconds, rounded up, of a millisecond duration computed in floats: a residue far below
 * a microsecond (`(now + 12000) - now` = 12000.000000000002) does not add a second.
 */
function ceilSeconds(ms: number): number {
  return Math.ceil((ms - 1e-6) / 1000);
}

/** One policy item: quota `q` per window `w` seconds. */
export function policyItem(name: string, quota: number, windowMs: number): string {
  return `${sfString(name)};q=${quota};w=${Math.max(1, Math.ceil(windowMs / 1000))}`;
}

/**
 * One current-state item: `r` remaining now, `t` seconds until it is replenished. `quotedName`
 * comes from `sfString` once at build time (this runs per request).
 */
export function stateItem(quotedName: string, remaining: number, resetMs: number): string {
  return `${quotedName};r=${remaining > 0 ? remaining : 0};t=${resetMs > 0 ? ceilSeconds(resetMs) : 0}`;
}

/** `Retry-After` in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, ceilSeconds(ms)));
}

/** An sf-string: printable ASCII with `"` and `\` escaped (names come from config). */
export function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * `stateItem` for one policy that remembers the last item it formatted: consecutive answers of
 * a route often carry the same `r` and `t`, and then no string is built.
 */
export class StateItemFormatter {
  private remaining = -1;
  private seconds = -1;
  private item = '';

  constructor(private readonly quotedName: string) {}

  format(remaining: number, resetMs: number): string {
    const r = remaining > 0 ? remaining : 0;
    const t = resetMs > 0 ? ceilSeconds(resetMs) : 0;
    if (r !== this.remaining || t !== this.seconds) {
      this.remaining = r;
      this.seconds = t;
      this.item = `${this.quotedName};r=${r};t=${t}`;
    }
    return this.item;
  }
}
