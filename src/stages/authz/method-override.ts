import type { AuthorizationConfig } from '../../authz/config.js';
import { authzAudit, deny } from '../../authz/decision.js';
import {
  formBodyHasOverride,
  OVERRIDE_HEADERS,
  overrideMethod,
  stripOverrideParam,
} from '../../authz/method-override.js';
import { ROUTE_KEY } from '../../authz/route-policy.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.method-override';
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
/** Form bodies are read whole (uploads included): only the core's body limit applies. */
const FORM_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Method tunnelling (`X-HTTP-Method-Override: DELETE` on a POST) is a classic way past function-
 * level checks: the gateway authorises POST while the upstream framework runs DELETE. On every
 * authorised route the override headers and `_method` are removed unless the route opts in; then
 * the overridden method is the one authorised and the one the upstream receives.
 */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.methodOverride,
  build(_config, build): AccessStage | undefined {
    const route = build.route;
    const section = route[ROUTE_KEY] as AuthorizationConfig | undefined;
    if (route.public === true || section === undefined || section === null) return undefined;
    const enabled = section.methodOverride === true;
    const audit = authzAudit(build.services);
    return {
      name: STAGE,
      run(ctx) {
        let requested: string | undefined;
        for (const name of OVERRIDE_HEADERS) {
          const value = ctx.header(name);
          if (value === undefined) continue;
          requested ??= value;
          ctx.dropHeaders.add(name);
        }
        const stripped = stripOverrideParam(ctx.query);
        if (stripped.removed.length > 0) {
          ctx.query = stripped.query;
          requested ??= stripped.removed[0];
        }
        if (requested !== undefined) {
          const method = enabled && ctx.method === 'POST' ? overrideMethod(requested) : undefined;
          if (method !== undefined) {
            ctx.logFields.methodOverride = method;
            ctx.method = method;
          } else {
            ctx.logFields.methodOverrideIgnored = requested.slice(0, 16);
          }
        }
        if (
          !enabled &&
          ctx.method === 'POST' &&
          FORM_TYPES.has(ctx.body.mediaType ?? '') &&
          ctx.body.present
        ) {
          return ctx.body.read(FORM_LIMIT).then((body) => {
            if (!formBodyHasOverride(ctx.body.mediaType, body)) return;
            deny(audit, ctx, { check: 'method_override', rule: '_method', reason: 'override_in_form_body' });
          });
        }
        return undefined;
      },
    };
  },
});
