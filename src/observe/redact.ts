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
