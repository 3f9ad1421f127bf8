import { callerRoles } from '../../authz/caller-roles.js';
import { deny } from '../../authz/decision.js';
import { readJsonBody } from '../../authz/json-body.js';
import { applicableTrees } from '../../authz/property-rules.js';
import { findDisallowed } from '../../authz/property-tree.js';
import { authzRequest } from '../../authz/request-view.js';
import { routePolicy } from '../../authz/route-policy.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.properties';

/**
 * Property-level authorization of requests (OWASP API3:2023, mass assignment): a JSON body may
 * only carry the properties the caller's roles may write. Bodies that cannot be checked (not
 * JSON) are refused on guarded operations. Also asks the upstream for an unencoded response
 * when the response will be filtered.
 */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authzProperties,
  async build(_config, build): Promise<AccessStage | undefined> {
    const policy = await routePolicy(build);
    if (policy === undefined || policy.properties.length === 0) return undefined;
    const { properties, claimPaths } = policy;
    const log = policy.audit;
    const anyRead = properties.some((rule) => rule.read !== undefined);
    return {
      name: STAGE,
      run(ctx) {
        const request = authzRequest(ctx);
        const roles = callerRoles(ctx, claimPaths);
        if (
          anyRead &&
          properties.some(
            (rule) => rule.read !== undefined && rule.selectors.some((s) => s.matches(request, 'restrict')),
          )
        ) {
          ctx.dropHeaders.add('accept-encoding');
        }
        const trees = applicableTrees(properties, request, roles, 'write');
        if (trees.length === 0 || !ctx.body.present) return undefined;
        return readJsonBody(ctx, policy.jsonLimits).then((body) => {
          if (body.kind === 'none') return;
          if (body.kind === 'other') {
            deny(log, ctx, {
              check: 'properties',
              rule: 'write',
              reason: 'unchecked_body_type',
              inputs: { mediaType: ctx.body.mediaType },
            });
          }
          for (const tree of trees) {
            const property = findDisallowed(body.value, tree);
            if (property !== undefined) {
              deny(log, ctx, {
                check: 'properties',
                rule: 'write',
                reason: 'mass_assignment',
                inputs: { property, roles },
              });
            }
          }
        });
      },
    };
  },
});
