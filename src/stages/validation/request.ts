import { getOpenApi, routeOpenApiConfig } from '../../openapi/index.js';
import { matchedOperation } from '../../openapi/operation-context.js';
import { createRequestValidator } from '../../openapi/request-validator.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';

/**
 * Validates parameters and bodies against the operation `openapi.match` found. Configured by the
 * route's `openapi` section (`validateRequests`, `strict`, `limits`); absent without it. The body
 * is read only for operations that declare one.
 */
export default defineStage({
  name: 'validation.request',
  phase: 'access',
  order: ORDER.access.requestValidation,
  async build(_config, build) {
    const settings = routeOpenApiConfig(build.route);
    if (settings === undefined || !settings.validateRequests) return undefined;
    const api = await getOpenApi(build);
    if (api === undefined) return undefined;
    const validate = createRequestValidator(api, { strict: settings.strict, limits: settings.limits });
    return {
      name: 'validation.request',
      run(ctx) {
        const match = matchedOperation(ctx);
        if (match === undefined) return;
        return validate(ctx, match);
      },
    };
  },
});
