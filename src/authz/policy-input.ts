import type { RequestContext } from '../pipeline/context.js';
import type { AuthzRequest } from './request-view.js';

/** The `input` document sent to the policy endpoint (OPA data API): who, what, which objects. */
export function policyInput(
  ctx: RequestContext,
  request: AuthzRequest,
  roles: readonly string[],
  body?: unknown,
): Record<string, unknown> {
  const identity = ctx.identity;
  const query: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(ctx.query)) (query[name] ??= []).push(value);
  return {
    route: ctx.route.name,
    method: request.method,
    path: ctx.path,
    operationId: request.operationId ?? null,
    pathTemplate: request.pathTemplate ?? null,
    params: ctx.params,
    query,
    clientIp: ctx.clientIp,
    ...(body === undefined ? {} : { body }),
    identity:
      identity === undefined
        ? null
        : {
            subject: identity.subject,
            consumerId: identity.consumerId ?? null,
            tenant: identity.tenant ?? null,
            issuer: identity.issuer ?? null,
            method: identity.method,
            roles,
            scopes: identity.scopes,
            attributes: identity.attributes,
          },
  };
}
