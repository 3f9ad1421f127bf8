import { GatewayError } from '../../errors/gateway-error.js';
import { routeOpenApiConfig } from '../../openapi/index.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';

interface UpstreamErrorsConfig {
  readonly replace5xx?: boolean;
}

/**
 * Replaces the body of every upstream 5xx response with a problem+json `upstream_error` (same
 * status, `Retry-After` kept) so stack traces and internals never leave. On by default on every
 * route; `upstreamErrors: { replace5xx: false }` or `openapi.responses.replaceUpstream5xx: false`
 * turns it off.
 */
export default defineStage<UpstreamErrorsConfig>({
  name: 'validation.upstream-errors',
  phase: 'response',
  order: ORDER.response.upstreamErrors,
  routeKey: 'upstreamErrors',
  routeSchema: {
    type: 'object',
    additionalProperties: false,
    description: 'What to do with upstream 5xx responses (see docs/openapi.md).',
    properties: {
      replace5xx: {
        type: 'boolean',
        description: 'Replace upstream 5xx bodies with problem+json (keeps the status). Default true.',
      },
    },
  },
  build(config, build) {
    if (config?.replace5xx === false) return undefined;
    if (routeOpenApiConfig(build.route)?.responses.replaceUpstream5xx === false) return undefined;
    return {
      name: 'validation.upstream-errors',
      minStatus: 500,
      run(_ctx, response) {
        if (response.local || response.status < 500) return;
        const retryAfter = response.headers['retry-after'];
        const value = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
        throw new GatewayError('upstream_error', {
          status: response.status,
          reason: 'upstream_5xx_replaced',
          ...(value === undefined ? {} : { headers: { 'retry-after': value } }),
        });
      },
    };
  },
});
