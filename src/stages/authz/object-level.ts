import { callerRoles } from '../../authz/caller-roles.js';
import { deny, shorten } from '../../authz/decision.js';
import { readJsonBody, type JsonBody } from '../../authz/json-body.js';
import { checkOwnership, ruleCaptures, type OwnershipRule } from '../../authz/ownership.js';
import { policyInput } from '../../authz/policy-input.js';
import { authzRequest, type AuthzRequest } from '../../authz/request-view.js';
import { routePolicy } from '../../authz/route-policy.js';
import type { RequestContext } from '../../pipeline/context.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.object-level';

interface Applicable {
  readonly rule: OwnershipRule;
  readonly captured: Readonly<Record<string, string>>;
}

/**
 * Object-level authorization (OWASP API1:2023): ownership rules binding path, query, header and
 * body values to the caller, then the external policy decision. Synchronous unless a rule needs
 * the body or the policy endpoint is asked.
 */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authzObject,
  async build(_config, build): Promise<AccessStage | undefined> {
    const policy = await routePolicy(build);
    if (policy === undefined || (policy.ownership.length === 0 && policy.policy === undefined))
      return undefined;
    const { ownership, claimPaths } = policy;
    const log = policy.audit;
    const external = policy.policy;

    const checkRules = (
      ctx: RequestContext,
      roles: readonly string[],
      rules: readonly Applicable[],
      body: JsonBody | undefined,
    ): void => {
      for (const { rule, captured } of rules) {
        const refusal = checkOwnership(rule, captured, ctx, roles, body);
        if (refusal !== undefined) deny(log, ctx, refusal);
      }
    };

    const askPolicy = async (
      ctx: RequestContext,
      request: AuthzRequest,
      roles: readonly string[],
    ): Promise<void> => {
      if (external === undefined) return;
      if (external.selectors !== undefined && !external.selectors.some((s) => s.matches(request, 'restrict')))
        return;
      let body: unknown;
      if (external.includeBody) {
        const json = await readJsonBody(ctx, policy.jsonLimits);
        body = json.kind === 'json' ? json.value : null;
      }
      const outcome = await external.client.decide(policyInput(ctx, request, roles, body));
      if (!outcome.allow) {
        deny(log, ctx, {
          check: 'policy',
          rule: 'policy',
          reason: outcome.reason,
          inputs: { path: shorten(ctx.path), method: request.method },
        });
      }
      ctx.logFields.authzPolicy = 'allow';
    };

    return {
      name: STAGE,
      run(ctx) {
        if (ctx.identity === undefined)
          deny(log, ctx, { check: 'no_identity', rule: 'object-level', reason: 'no_identity' });
        const request = authzRequest(ctx);
        const roles = callerRoles(ctx, claimPaths);
        let applicable: Applicable[] | undefined;
        let needsBody = false;
        for (const rule of ownership) {
          const captured = ruleCaptures(rule, request);
          if (captured === undefined) continue;
          (applicable ??= []).push({ rule, captured });
          if (rule.ref.source === 'body') needsBody = true;
        }
        if (!needsBody) {
          if (applicable !== undefined) checkRules(ctx, roles, applicable, undefined);
          return external === undefined ? undefined : askPolicy(ctx, request, roles);
        }
        return readJsonBody(ctx, policy.jsonLimits).then((body) => {
          checkRules(ctx, roles, applicable ?? [], body);
          return askPolicy(ctx, request, roles);
        });
      },
    };
  },
});
