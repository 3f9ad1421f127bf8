import { callerRoles } from '../../authz/caller-roles.js';
import type { AuthorizationConfig } from '../../authz/config.js';
import { audit, deny } from '../../authz/decision.js';
import { isPrivileged } from '../../authz/privileged.js';
import { authzRequest } from '../../authz/request-view.js';
import { isGranted } from '../../authz/roles.js';
import { ROLES_KEY, ROUTE_KEY, routePolicy } from '../../authz/route-policy.js';
import { AUTHORIZATION_SCHEMA, ROLES_SCHEMA } from '../../authz/schema.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.rbac';

/**
 * Deny by default: every route that is not `public: true` must have an authorization section.
 * This stage owns that section's schema and checks role permissions per operation.
 */
export default defineStage<AuthorizationConfig>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authzRbac,
  routeKey: ROUTE_KEY,
  routeSchema: AUTHORIZATION_SCHEMA,
  globalKey: ROLES_KEY,
  globalSchema: ROLES_SCHEMA,
  async build(config, build): Promise<AccessStage | undefined> {
    if (build.route.public === true) {
      if (config !== undefined) build.fail('a route cannot be both `public: true` and have `authorization`');
      build.warn(
        `route "${build.route.name}" is public: no authentication or authorization applies to it`,
        '',
      );
      return undefined;
    }
    if (config === undefined) {
      return build.fail(
        'this route has no `authorization` section: add one (e.g. `authorization: { roles: { user: { permissions: ["GET /items/{id}"] } } }`) or mark the route `public: true`',
      );
    }
    const policy = await routePolicy(build);
    const permissions = policy?.permissions;
    if (policy === undefined || permissions === undefined) return undefined;
    const { claimPaths } = policy;
    const log = policy.audit;
    /** `role:*` for each role granted everything, written once. */
    const grantsAll = new Map<string, string>();
    for (const [role, set] of permissions) if (set.all) grantsAll.set(role, `${role}:*`);
    const mayBePrivileged = policy.privileged.length > 0;
    /**
     * The grant `isGranted` would return whatever the request, when the first of the caller's
     * roles that has permissions on this route grants everything (`*`, which also covers
     * privileged operations); else undefined and the request decides.
     */
    const grantForAnyRequest = (roles: readonly string[]): string | undefined => {
      if (grantsAll.size === 0) return undefined;
      for (let i = 0; i < roles.length; i++) {
        const role = roles[i]!;
        if (permissions.has(role)) return grantsAll.get(role);
      }
      return undefined;
    };
    return {
      name: STAGE,
      run(ctx) {
        if (ctx.identity === undefined)
          deny(log, ctx, { check: 'no_identity', rule: 'rbac', reason: 'no_identity' });
        const roles = callerRoles(ctx, claimPaths);
        // Privileged calls are audited even when granted; without an OpenAPI operation or a
        // `privileged` selector there can be none, and the request view is not needed.
        const privileged =
          (ctx.operation !== undefined || mayBePrivileged) && isPrivileged(policy, ctx, authzRequest(ctx));
        const grant =
          grantForAnyRequest(roles) ?? isGranted(permissions, roles, authzRequest(ctx), privileged);
        if (grant === undefined) {
          const request = authzRequest(ctx);
          deny(log, ctx, {
            check: 'rbac',
            rule: privileged ? 'privileged' : 'permissions',
            reason: 'no_permission',
            inputs: {
              roles,
              method: request.method,
              operation: request.operationId ?? request.pathTemplate ?? request.path,
            },
          });
        }
        ctx.logFields.authzGrant = grant;
        if (privileged) {
          audit(log, ctx, 'authz_privileged', {
            check: 'rbac',
            rule: grant,
            reason: 'privileged_call_allowed',
          });
        }
      },
    };
  },
});
