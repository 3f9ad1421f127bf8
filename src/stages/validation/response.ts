import { Counter } from 'prom-client';
import { getOpenApi, routeOpenApiConfig } from '../../openapi/index.js';
import { createResponseChecker, type ResponseFinding } from '../../openapi/response-validator.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';

/**
 * Enforces the response contract of the route's OpenAPI document (`openapi.responses`): reports,
 * strips undeclared members (excessive data exposure) or blocks with 502. Absent when the route
 * has no `openapi` section, or when the mode is `off` and nothing undeclared is blocked.
 */
export default defineStage({
  name: 'validation.response',
  phase: 'response',
  order: ORDER.response.responseValidation,
  async build(_config, build) {
    const settings = routeOpenApiConfig(build.route);
    if (settings === undefined) return undefined;
    const responses = settings.responses;
    if (
      responses.mode === 'off' &&
      !responses.blockUndeclaredStatus &&
      !responses.blockUndeclaredContentType
    ) {
      return undefined;
    }
    const api = await getOpenApi(build);
    if (api === undefined) return undefined;
    const findings = build.services.metrics.metric(
      'portcullis_openapi_response_findings_total',
      (registry) =>
        new Counter({
          name: 'portcullis_openapi_response_findings_total',
          help: 'Responses that broke their OpenAPI contract or had members stripped, by route, mode and kind',
          labelNames: ['route', 'mode', 'kind'],
          registers: [registry],
        }),
    );
    const route = build.route.name;
    const record = (
      ctx: Parameters<Parameters<typeof createResponseChecker>[2]>[0],
      finding: ResponseFinding,
    ): void => {
      findings.inc({ route, mode: responses.mode, kind: finding.kind });
      if (finding.kind === 'stripped') {
        ctx.logFields.responseStripped = finding.removed;
        return;
      }
      ctx.logFields.responseViolation = finding.kind;
      if (finding.violations !== undefined) ctx.logFields.responseViolations = finding.violations;
    };
    const check = createResponseChecker(api, responses, record);
    return { name: 'validation.response', run: check };
  },
});
