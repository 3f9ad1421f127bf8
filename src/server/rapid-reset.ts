import { constants, type ServerHttp2Session } from 'node:http2';

export interface ResetBudget {
  /** Streams a client may cancel at once. */
  readonly burst: number;
  /** Cancelled streams per second a client may sustain. */
  readonly perSecond: number;
}

/**
 * HTTP/2 rapid-reset guard (CVE-2023-44487): a client that opens streams and cancels them at
 * once makes the server start work for each while never counting against the concurrent-stream
 * limit. Peer-cancelled streams draw from a token bucket per session (`burst`, refilled at
 * `perSecond`); when it runs dry the session gets GOAWAY(ENHANCE_YOUR_CALM) and is destroyed.
 */
export function guardRapidReset(
  session: ServerHttp2Session,
  budget: ResetBudget,
  onTrip: (resets: number) => void,
): void {
  let tokens = budget.burst;
  let last = Date.now();
  let resets = 0;
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      const now = Date.now();
      tokens = Math.min(budget.burst, tokens + ((now - last) / 1000) * budget.perSecond);
      last = now;
      resets++;
      tokens -= 1;
      if (tokens < 0 && !session.destroyed) {
        onTrip(resets);
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
}
