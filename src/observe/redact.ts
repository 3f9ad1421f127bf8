import { LOG_DETECTORS, maskSensitive } from '../dlp/mask.js';

/** Header names whose values never appear in logs (lower case). */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-admin-token',
  'x-csrf-token',
]);

export const REDACTED = '[REDACTED]';

/** pino `redact` paths for anything that may carry a credential. */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.clientSecret',
  'password',
  'secret',
  'token',
  'apiKey',
  'clientSecret',
];

/** Copies headers for logging with sensitive values replaced. `extra` adds configured credential headers. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
  extra?: ReadonlySet<string>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    out[lower] = SENSITIVE_HEADERS.has(lower) || extra?.has(lower) ? REDACTED : value;
  }
  return out;
}

/**
 * The detector kinds `mayHoldSensitive` was written for (every log detector). If the logger
 * masks a kind not listed here, the shortcut is off and every value is scanned.
 */
const PREFILTERED: ReadonlySet<string> = new Set([
  'card',
  'ssn',
  'nino',
  'iban',
  'privateKey',
  'awsAccessKey',
  'githubToken',
  'slackToken',
  'stripeKey',
  'googleApiKey',
  'jwt',
]);
const PREFILTER_SAFE = LOG_DETECTORS.every((id) => PREFILTERED.has(id));

/** `text[i]` is an ASCII digit. */
function digitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

const SENSITIVE = 2;
const ESCAPE = 1;

/**
 * One pass over a value: SENSITIVE unless no log detector (dlp/patterns.ts) can match it,
 * ESCAPE when JSON needs escapes (quote, backslash, control characters, lone surrogates).
 * Cards need a run of 13 digits (spaces and dashes allowed inside: the card detector's own
 * gate), SSNs `ddd-dd-dddd`, NINOs, IBANs, private keys and AWS, Google and JWT tokens an
 * upper-case letter, GitHub and Stripe keys `_`, Slack tokens `xox`; none is shorter than 9
 * characters. Running the detectors costs microseconds even on a short path, and most logged
 * values (paths, hosts, generated request ids) are lower-case words, hex and small numbers.
 */
function scan(text: string): number {
  let flags = 0;
  let run = 0;
  let group = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      run++;
      group++;
      // the 4th digit of `ddd-dd-dddd`
      if (
        group === 4 &&
        i >= 10 &&
        text.charCodeAt(i - 4) === 45 &&
        digitAt(text, i - 5) &&
        digitAt(text, i - 6) &&
        text.charCodeAt(i - 7) === 45 &&
        digitAt(text, i - 8) &&
        digitAt(text, i - 9) &&
        digitAt(text, i - 10)
      )
        flags |= SENSITIVE;
      if (run >= 13) flags |= SENSITIVE;
      continue;
    }
    group = 0;
    if (c === 32 || c === 45) continue;
    run = 0;
    if ((c >= 65 && c <= 90) || c === 95) flags |= SENSITIVE;
    else if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) flags |= ESCAPE;
  }
  if (!PREFILTER_SAFE) return flags | SENSITIVE;
  if (text.length < 9) return flags & ESCAPE;
  if ((flags & SENSITIVE) === 0 && text.includes('xox')) flags |= SENSITIVE;
  return flags;
}

/** False only when no log detector can match `text` (see `scan`). */
export function mayHoldSensitive(text: string): boolean {
  return (scan(text) & SENSITIVE) !== 0;
}

const MASK_CACHE_MAX = 1024;
const maskCache = new Map<string, string>();

/**
 * `maskSensitive` for one logged value. Values that may hold something are scanned once and
 * remembered (bounded; masking is a pure function of the text, so a remembered answer is never
 * stale): paths, hosts and error codes repeat from request to request. `remember: false` for
 * values that never repeat (request ids).
 */
export function maskLogValue(text: string, remember = true): string {
  return (scan(text) & SENSITIVE) === 0 ? text : masked(text, remember);
}

function masked(text: string, remember: boolean): string {
  if (!remember) return maskSensitive(text);
  let result = maskCache.get(text);
  if (result === undefined) {
    result = maskSensitive(text);
    if (maskCache.size >= MASK_CACHE_MAX) maskCache.clear();
    maskCache.set(text, result);
  }
  return result;
}

/** A logged value as a JSON string literal, sensitive data masked (`maskLogValue`), in one pass. */
export function jsonLogString(text: string, remember = true): string {
  const flags = scan(text);
  if (flags === 0) return '"' + text + '"';
  if (flags === ESCAPE) return JSON.stringify(text);
  return JSON.stringify(masked(text, remember));
}
