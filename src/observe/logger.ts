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

/** The process logger: JSON lines, credentials redacted by path, sensitive data masked. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.stream ?? bufferedDestination(options.destination);
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: [...LOG_REDACT_PATHS], censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Card numbers, national ids, private keys and cloud secrets are masked in every line.
      hooks: { streamWrite: maskSensitive },
    },
    destination,
  );
}

/**
 * Lines are written in batches of up to 8 KiB, and at least once a second: one write per
 * request line (through the libuv thread pool) cost more than the rest of the access log.
 */
function bufferedDestination(target: string | undefined): pino.DestinationStream {
  const options = { sync: false, minLength: 8192 } as const;
  const destination =
    target === undefined || target === 'stdout'
      ? pino.destination({ ...options, fd: 1 })
      : target === 'stderr'
        ? pino.destination({ ...options, fd: 2 })
        : pino.destination({ ...options, dest: target, mkdir: true });
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // a flush while the stream is not ready is retried on the next tick of the interval
    }
  }, 1000);
  timer.unref();
  destination.on('close', () => clearInterval(timer));
  return destination;
}

/** Top-level keys never logged in access lines (stage log fields are not headers). */
const ACCESS_REDACT = ['authorization', 'cookie', 'apiKey', 'token', 'password', 'secret', 'clientSecret'];

/**
 * The access-log logger: a child without the wildcard redaction paths (access lines carry no
 * headers or bodies, and wildcard redaction doubled the cost of a line); masking still applies.
 */
export function accessLogger(logger: Logger): Logger {
  return logger.child({ type: 'access' }, { redact: { paths: ACCESS_REDACT, censor: '[REDACTED]' } });
}
