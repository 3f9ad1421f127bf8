/**
 * The single catalogue of gateway errors. Every error a client can receive from the gateway
 * itself is declared here with a stable code, an HTTP status and a title; `docs/errors.md`
 * documents each code under a heading of the same name (a test keeps the two in step).
 */
export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
}

export const ERROR_CATALOGUE = {
  // request framing and parsing (core)
  bad_request: { status: 400, title: 'Malformed request' },
  bad_path: { status: 400, title: 'Malformed or ambiguous request path' },
  bad_framing: { status: 400, title: 'Malformed or conflicting message framing' },
  request_timeout: { status: 408, title: 'Request not received in time' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  uri_too_long: { status: 414, title: 'Request URI too long' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  not_found: { status: 404, title: 'No route matches the request' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  // upstream (core proxy)
  upstream_unavailable: { status: 502, title: 'Upstream unavailable' },
  upstream_bad_response: { status: 502, title: 'Upstream sent an invalid response' },
  upstream_timeout: { status: 504, title: 'Upstream timed out' },
  upstream_error: { status: 502, title: 'Upstream error' },
  no_healthy_upstream: { status: 503, title: 'No healthy upstream' },
  circuit_open: { status: 503, title: 'Upstream temporarily disabled' },
  overloaded: { status: 503, title: 'Service overloaded' },
  internal_error: { status: 500, title: 'Internal gateway error' },
  // WebSocket proxying
  websocket_not_enabled: { status: 403, title: 'WebSocket not enabled for this route' },
  websocket_origin_forbidden: { status: 403, title: 'WebSocket origin not allowed' },
  websocket_upstream_refused: { status: 502, title: 'Upstream refused the WebSocket handshake' },
  // authentication
  unauthenticated: { status: 401, title: 'Authentication required' },
  auth_blocked: { status: 429, title: 'Too many failed authentication attempts' },
  authn_unavailable: { status: 503, title: 'Authentication temporarily unavailable' },
  // authorization
  forbidden: { status: 403, title: 'Access denied' },
  insufficient_scope: { status: 403, title: 'Access denied' },
  // validation (OpenAPI)
  validation_failed: { status: 400, title: 'Request does not match the API contract' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  response_contract_violation: { status: 502, title: 'Upstream response broke the API contract' },
  sensitive_data_blocked: { status: 502, title: 'Response withheld' },
  request_blocked: { status: 403, title: 'Request blocked by security policy' },
  // traffic control
  rate_limited: { status: 429, title: 'Too many requests' },
  quota_exceeded: { status: 429, title: 'Quota exceeded' },
  concurrency_limited: { status: 503, title: 'Too many concurrent requests' },
  store_unavailable: { status: 503, title: 'Service temporarily unavailable' },
  // admin API
  admin_unauthenticated: { status: 401, title: 'Admin authentication required' },
  admin_bad_request: { status: 400, title: 'Invalid admin request' },
  admin_not_found: { status: 404, title: 'Not found' },
  admin_conflict: { status: 409, title: 'Conflict' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base of every problem `type` URI; each code is documented at `docs/errors.md#<code>`. */
export const PROBLEM_TYPE_BASE = 'https://portcullis.dev/problems/';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_BASE + code.replaceAll('_', '-');
}
