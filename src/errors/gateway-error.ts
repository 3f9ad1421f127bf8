import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

export interface GatewayErrorOptions {
  /** Public, client-safe detail. Never put internals, secrets or echoed input here. */
  detail?: string;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`, ...). */
  headers?: Record<string, string>;
  /** Extra RFC 9457 extension members (e.g. `errors` for validation). Must be client-safe. */
  extensions?: Record<string, unknown>;
  /** Overrides the catalogue status (e.g. an upstream 503 replaced by problem+json). */
  status?: number;
  /** Why it happened, for logs only (machine string such as `jwt_expired`). Never sent. */
  reason?: string;
  /** Underlying error, for logs only. */
  cause?: unknown;
}

/**
 * An error caused by the client's request or the upstream, with a stable catalogue code.
 * Stages throw these; only `errors/render.ts` turns them into responses.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    // An expected refusal needs no stack: capturing one cost more than the rest of a rejection.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(options.reason ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? ERROR_CATALOGUE[code].status;
    this.detail = options.detail;
    this.headers = options.headers;
    this.extensions = options.extensions;
    this.reason = options.reason;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
