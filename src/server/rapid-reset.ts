import { constants, type ServerHttp2Session } from 'node:http2';

/**
 * HTTP/2 rapid-reset guard (CVE-2023-44487): a client that opens streams and cancels them at
 * once makes the server start work for each while never counting against the concurrent-stream
 * limit. Counts peer-aborted streams per session in one-second windows; past `maxPerSecond` the
 * session gets GOAWAY(ENHANCE_YOUR_CALM) and is destroyed.
 */
export function guardRapidReset(
  session: ServerHttp2Session,
  maxPerSecond: number,
  onTrip: (resets: number) => void,
): void {
  let windowStart = 0;
  let resets = 0;
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        resets = 0;
      }
      resets++;
      if (resets === maxPerSecond + 1 && !session.destroyed) {
        onTrip(resets);
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
}
