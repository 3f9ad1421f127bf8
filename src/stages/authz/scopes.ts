import { operationKey } from '../../authz/compile.js';
import { deny, denyScope } from '../../authz/decision.js';
import { authzRequest } from '../../authz/request-view.js';
import { routePolicy } from '../../authz/route-policy.js';
import { missingScopes } from '../../authz/scopes.js';
import type { SecurityRequirement } from '../../openapi/types.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.scopes';

/** OAuth scopes per operation: from the OpenAPI `security` requirements, or a selector map. */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authzScopes,
  async build(_config, build): Promise<AccessStage | undefined> {
    const policy = await routePolicy(build);
    const scopes = policy?.scopes;
    if (policy === undefined || scopes === undefined) return undefined;
    const log = policy.audit;
    const operations = policy.operations;
    return {
      name: STAGE,
      run(ctx) {
        const identity = ctx.identity;
        if (identity === undefined)
          deny(log, ctx, { check: 'no_identity', rule: 'scopes', reason: 'no_identity' });
        let requirements: readonly SecurityRequirement[];
        let rule: string;
        if (scopes.mode === 'openapi') {
          const operation = ctx.operation;
          const info =
            operation === undefined
              ? undefined
              : operations?.get(operationKey(operation.method, operation.pathTemplate));
          if (operation === undefined || info === undefined) {
            return deny(log, ctx, { check: 'scopes', rule: 'openapi', reason: 'no_operation' });
          }
          requirements = info.security;
          rule = `openapi:${info.operationId ?? operationKey(info.method, info.pathTemplate)}`;
        } else {
          const request = authzRequest(ctx);
          const needed: string[] = [];
          const rules: string[] = [];
          for (const entry of scopes.entries) {
            if (!entry.selector.matches(request, 'restrict')) continue;
            rules.push(entry.selector.text);
            for (const scope of entry.scopes) if (!needed.includes(scope)) needed.push(scope);
          }
          if (needed.length === 0) return;
          requirements = [{ scopes: needed }];
          rule = rules.join('|');
        }
        const granted = new Set(identity.scopes);
        const missing = missingScopes(requirements, granted);
        if (missing !== undefined) {
          denyScope(
            log,
            ctx,
            {
              check: 'scopes',
              rule,
              reason: 'insufficient_scope',
              inputs: { required: missing, granted: identity.scopes },
            },
            missing,
          );
        }
      },
    };
  },
});
