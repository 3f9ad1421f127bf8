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
  const destination =
    options.stream ??
    (options.destination === undefined || options.destination === 'stdout'
      ? pino.destination({ fd: 1, sync: false })
      : options.destination === 'stderr'
        ? pino.destination({ fd: 2, sync: false })
        : pino.destination({ dest: options.destination, sync: false, mkdir: true }));
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
