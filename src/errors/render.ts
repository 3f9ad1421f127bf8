import { ERROR_CATALOGUE, problemType } from './catalogue.js';
import { GatewayError } from './gateway-error.js';

export interface RenderedProblem {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Renders any thrown value as an RFC 9457 problem. Unknown errors become a generic 500: their
 * message and stack never reach the client.
 */
export function renderProblem(error: unknown, requestId?: string): RenderedProblem {
  const gatewayError = error instanceof GatewayError ? error : new GatewayError('internal_error');
  const spec = ERROR_CATALOGUE[gatewayError.code];
  const problem: Record<string, unknown> = {
    type: problemType(gatewayError.code),
    title: spec.title,
    status: gatewayError.status,
    code: gatewayError.code,
  };
  if (gatewayError.detail !== undefined) problem.detail = gatewayError.detail;
  if (requestId !== undefined) problem.requestId = requestId;
  if (gatewayError.extensions !== undefined) {
    for (const [key, value] of Object.entries(gatewayError.extensions)) {
      if (!(key in problem)) problem[key] = value;
    }
  }
  const body = JSON.stringify(problem);
  return {
    status: gatewayError.status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...gatewayError.headers,
    },
    body,
  };
}
