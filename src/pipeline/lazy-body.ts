import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestBody } from './request-body.js';

/**
 * Reads a stream into one buffer, refusing past `limit` bytes. `onRead` sees the buffer before
 * the promise settles (it saves callers a second promise just to keep it).
 */
export function readAll(
  stream: Readable,
  limit: number,
  tooLarge: () => GatewayError,
  onRead?: (body: Buffer) => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      onRead?.(body);
      resolve(body);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new GatewayError('bad_request', { reason: 'body_read_failed', cause: error }));
    };
    const onClose = () => {
      cleanup();
      reject(new GatewayError('bad_request', { reason: 'client_closed_during_body' }));
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * The whole body when all `length` bytes of it (a Content-Length body, which the HTTP parser
 * frames exactly) already wait in the stream's buffer. Small bodies usually arrive with their
 * headers and are pushed before the pipeline's first await resumes; taking them synchronously
 * saves readAll's listeners, ticks and promise. The stream is then resumed so that it still
 * ends (HTTP/2's request timer waits for that). Otherwise undefined, and nothing is consumed.
 */
export function takeBuffered(stream: Readable, length: number): Buffer | undefined {
  if (
    length === 0 ||
    stream.readableLength !== length ||
    stream.readableFlowing === true ||
    stream.readableObjectMode ||
    stream.readableEncoding !== null
  ) {
    return undefined;
  }
  const body = stream.read() as Buffer | null;
  if (body === null) return undefined;
  stream.resume();
  return body;
}

/** Counts bytes of a streamed (chunked) body and fails the stream past `limit`. */
export class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(new GatewayError('payload_too_large', { reason: 'streamed_body_over_limit' }));
      return;
    }
    callback(null, chunk);
  }
}

const bodyOverLimit = (): GatewayError =>
  new GatewayError('payload_too_large', { reason: 'body_over_limit' });

export class LazyRequestBody implements RequestBody {
  readonly present: boolean;
  readonly declaredLength: number | undefined;
  readonly mediaType: string | undefined;
  private parsedValues: Map<string, unknown> | undefined;
  /** Created on first use: most requests never parse their body. */
  get parsed(): Map<string, unknown> {
    return (this.parsedValues ??= new Map());
  }
  private buffer: Buffer | undefined;
  private pending: Promise<Buffer> | undefined;

  constructor(
    private readonly stream: Readable,
    contentLength: string | undefined,
    chunked: boolean,
    contentType: string | undefined,
    private readonly maxBytes: number,
  ) {
    this.declaredLength = contentLength === undefined ? undefined : Number(contentLength);
    this.present = chunked || (this.declaredLength !== undefined && this.declaredLength > 0);
    if (contentType !== undefined) {
      const semi = contentType.indexOf(';');
      this.mediaType = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    } else this.mediaType = undefined;
  }

  get buffered(): boolean {
    return this.buffer !== undefined;
  }

  read(limit: number): Promise<Buffer> {
    if (this.buffer) return Promise.resolve(this.buffer);
    if (!this.present) {
      this.buffer = Buffer.alloc(0);
      return Promise.resolve(this.buffer);
    }
    const max = Math.min(limit, this.maxBytes);
    if (this.declaredLength !== undefined && this.declaredLength > max) {
      return Promise.reject(new GatewayError('payload_too_large', { reason: 'declared_length_over_limit' }));
    }
    if (this.pending !== undefined) return this.pending;
    const length = this.declaredLength;
    if (length === undefined) {
      this.pending = this.readWithListeners(max);
      return this.pending;
    }
    const whole = takeBuffered(this.stream, length);
    if (whole !== undefined) {
      this.buffer = whole;
      return Promise.resolve(whole);
    }
    // Stages that run straight from the request event (no await before them) read before
    // node:http has pushed the body bytes that came with the headers: the parser pushes them
    // once that event returns, before the next microtask. Look again then.
    this.pending = Promise.resolve().then(() => {
      const later = takeBuffered(this.stream, length);
      if (later !== undefined) {
        this.buffer = later;
        return later;
      }
      // a stream that closed meanwhile would never emit the events readAll waits for
      if (this.stream.destroyed)
        throw new GatewayError('bad_request', { reason: 'client_closed_during_body' });
      return this.readWithListeners(max);
    });
    return this.pending;
  }

  /** The body as its chunks arrive, kept once it has ended. */
  private readWithListeners(max: number): Promise<Buffer> {
    return readAll(this.stream, max, bodyOverLimit, (b) => (this.buffer = b));
  }

  replace(body: Buffer): void {
    this.buffer = body;
  }

  /** What to forward: the buffered body, the live stream, or nothing. */
  forwardable(): Buffer | Readable | undefined {
    if (this.buffer) return this.buffer.length > 0 ? this.buffer : undefined;
    if (!this.present) return undefined;
    if (this.declaredLength === undefined) return this.stream.pipe(new BodyLimit(this.maxBytes));
    return this.stream;
  }
}
