import pino from 'pino';
import { maskSensitive } from '../dlp/mask.js';
import { LOG_REDACT_PATHS } from './redact.js';

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level?: string;
  /** `stdout` (default), `stderr`, or a file path. */
  readonly destination?: string;
  /** Write to this stream instead (tests, embedding). */
  readonly stream?: pino.DestinationStream;
}

/** Where each logger made by `createLogger` writes, and its base fields as JSON (`,"pid":…`). */
const destinations = new WeakMap<Logger, { stream: pino.DestinationStream; base: string }>();

/** The process logger: JSON lines, credentials redacted by path, sensitive data masked. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.stream ?? bufferedDestination(options.destination);
  const base = { pid: process.pid };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base,
      redact: { paths: [...LOG_REDACT_PATHS], censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"time":"${isoNow()}"`,
      // Card numbers, national ids, private keys and cloud secrets are masked in every line.
      hooks: { streamWrite: maskSensitive },
    },
    destination,
  );
  destinations.set(logger, { stream: destination, base: `,"pid":${base.pid}` });
  return logger;
}

let cachedSecond = -1;
let cachedPrefix = '';

/**
 * `new Date().toISOString()` with the part up to the second formatted once a second (the same
 * text as pino's isoTime, at a fraction of the cost).
 */
export function isoNow(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(now).toISOString();
    if (iso.length !== 24) return iso; // years outside 0000–9999
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const ms = now - second * 1000;
  return cachedPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + String(ms) + 'Z';
}

/**
 * Lines are written in batches of up to 64 KiB, and at least once a second: one write per
 * request line (through the libuv thread pool) cost more than the rest of the access log, and
 * each write still costs ~15 µs of CPU, so the batches are large.
 */
function bufferedDestination(target: string | undefined): pino.DestinationStream {
  // sonic-boom writes each batch as soon as it gets it (retrying partial writes and EAGAIN);
  // LineBatch builds the batches. (minLength 1, not 0: with 0, flush(cb) would not wait.)
  const options = { sync: false, minLength: 1, contentMode: 'buffer' } as const;
  const sink =
    target === undefined || target === 'stdout'
      ? pino.destination({ ...options, fd: 1 })
      : target === 'stderr'
        ? pino.destination({ ...options, fd: 2 })
        : pino.destination({ ...options, dest: target, mkdir: true });
  const batch = new LineBatch(sink);
  const timer = setInterval(() => batch.flush(), 1000);
  timer.unref();
  sink.on('close', () => {
    clearInterval(timer);
    openBatches.delete(batch);
  });
  openBatches.add(batch);
  return batch;
}

const BATCH_BYTES = 64 * 1024;
/** Written buffers kept for reuse. */
const SPARE_BUFFERS = 8;

/**
 * Encodes lines into a 64 KiB buffer and hands each full buffer to sonic-boom. Batching inside
 * sonic-boom (its `minLength`, with string content) measures the byte length of the whole
 * pending string on every line, which flattens and rescans up to 8 KiB each time: ~3 µs a line,
 * more than building the line.
 *
 * A buffer is reused once sonic-boom reports (its `write` event, in order) that every byte of
 * it was written: a fresh 64 KiB buffer per batch made V8 collect garbage for the external
 * memory often enough to cost ~0.7 µs a line.
 */
class LineBatch implements pino.DestinationStream {
  private buffer: Buffer = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  /** Handed to sonic-boom and not yet written, in order, with their length. */
  private readonly queued: { buffer: Buffer; length: number }[] = [];
  /** Bytes of `queued[0]` written so far. */
  private headWritten = 0;
  private readonly spare: Buffer[] = [];

  constructor(private readonly sink: ReturnType<typeof pino.destination>) {
    sink.on('write', (n: number) => this.written(n));
  }

  get pending(): boolean {
    return this.used > 0;
  }

  write(line: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit
    if (line.length * 3 > BATCH_BYTES - this.used) {
      this.drain();
      if (line.length * 3 > BATCH_BYTES) {
        this.hand(Buffer.from(line), -1);
        return;
      }
    }
    this.used += this.buffer.write(line, this.used);
  }

  /** Writes what is pending; `cb` once sonic-boom has it (pino's `logger.flush(cb)`). */
  flush(cb?: (error?: Error) => void): void {
    try {
      this.drain();
      this.sink.flush(cb);
    } catch (error) {
      // not open yet or closed: the interval retries, a callback learns why
      cb?.(error as Error);
    }
  }

  /** At exit, when there is no event loop left. */
  flushSync(): void {
    try {
      this.drain();
      this.sink.flushSync();
    } catch {
      // not open yet or already closed: nothing more can be written
    }
  }

  end(): void {
    this.drain();
    this.sink.end();
  }

  private drain(): void {
    if (this.used === 0 || (this.sink as { destroyed?: boolean }).destroyed === true) return;
    const full = this.buffer;
    const length = this.used;
    this.buffer = this.spare.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
    this.hand(full, length);
  }

  /** Queues `length` bytes of `buffer` (-1: all of it, and not for reuse) with sonic-boom. */
  private hand(buffer: Buffer, length: number): void {
    const size = length < 0 ? buffer.length : length;
    this.queued.push({ buffer: length < 0 ? Buffer.alloc(0) : buffer, length: size });
    this.sink.write((length < 0 ? buffer : buffer.subarray(0, size)) as unknown as string);
  }

  /** sonic-boom wrote `n` more bytes: the buffers written in full can take new lines. */
  private written(n: number): void {
    this.headWritten += n;
    let head = this.queued[0];
    while (head !== undefined && this.headWritten >= head.length) {
      this.headWritten -= head.length;
      this.queued.shift();
      if (head.buffer.length === BATCH_BYTES && this.spare.length < SPARE_BUFFERS)
        this.spare.push(head.buffer);
      head = this.queued[0];
    }
  }
}

/**
 * Batches still open: their pending lines are written when the process ends, in order (an
 * asynchronous flush while the event loop is still there, synchronously at `exit`).
 */
const openBatches = new Set<LineBatch>();
process.on('beforeExit', () => {
  // only when something is pending: a flush schedules a write, and `beforeExit` comes again
  for (const batch of openBatches) if (batch.pending) batch.flush();
});
process.on('exit', () => {
  for (const batch of openBatches) batch.flushSync();
});

/** A pre-serialised line writer on the logger's own destination; see `accessLineWriter`. */
export interface LineWriter {
  /** `{"level":"info","time":"…"` + the logger's bindings + `extra`, then a comma. */
  start(): string;
  /** True while the logger writes `info` lines. */
  enabled(): boolean;
  /** Writes one finished line (ending in `}\n`). */
  write(line: string): void;
}

/**
 * For lines the caller serialises itself (the access log: a fixed record, masked field by field).
 * The lines go to the logger's destination, in its batches, with its level, time and bindings;
 * pino's per-line work (key walk, redaction paths, masking the whole line) is skipped. Undefined
 * for a logger not made by `createLogger`: log through it instead.
 */
export function accessLineWriter(logger: Logger, extra: Record<string, string>): LineWriter | undefined {
  const made = destinations.get(logger);
  if (made === undefined) return undefined;
  const destination = made.stream;
  let bindings = made.base;
  for (const [key, value] of Object.entries(extra))
    bindings += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  const tail = `"${bindings},`;
  return {
    start: () => '{"level":"info","time":"' + isoNow() + tail,
    enabled: () => logger.isLevelEnabled('info'),
    write: (line) => void destination.write(line),
  };
}
