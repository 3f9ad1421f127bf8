import { constants, type Http2Server, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';

/**
 * HTTP/2 has no equivalent of HTTP/1's `requestTimeout`: a stream whose body trickles in keeps an
 * upstream request (and a concurrency slot) busy forever. Every stream with a body must have
 * delivered all of it (its readable side ended: the proxy reads request bodies) within
 * `timeoutMs`, or it is reset with CANCEL. Streams that close earlier clear their timer.
 */
export function limitHttp2RequestTime(server: Http2Server | Http2SecureServer, timeoutMs: number): void {
  server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number) => {
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) return; // no body: nothing to wait for
    const timer = setTimeout(() => {
      if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    stream.once('end', clear);
    stream.once('close', clear);
  });
}
