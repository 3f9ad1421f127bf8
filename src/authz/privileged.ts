import type { RequestContext } from '../pipeline/context.js';
import type { RoutePolicy } from './compile.js';
import { operationKey } from './compile.js';
import type { AuthzRequest } from './request-view.js';

/** True when the request is a privileged operation: by config selector, or `x-portcullis-privileged` in OpenAPI. */
export function isPrivileged(policy: RoutePolicy, ctx: RequestContext, request: AuthzRequest): boolean {
  const operation = ctx.operation;
  if (operation !== undefined) {
    if (operation.privileged === true) return true;
    if (policy.operations?.get(operationKey(operation.method, operation.pathTemplate))?.privileged === true)
      return true;
  }
  for (const selector of policy.privileged) if (selector.matches(request, 'restrict')) return true;
  return false;
}
