import type { RequestContext } from '../pipeline/context.js';

/** What authorization rules look at to decide which operation a request is. */
export interface AuthzRequest {
  /** Upper case; HEAD is authorised as GET (upstreams answer HEAD with their GET handler). */
  readonly method: string;
  /** The normalised request path. */
  readonly path: string;
  readonly operationId: string | undefined;
  /** The OpenAPI path template the request matched, when an OpenAPI document is attached. */
  readonly pathTemplate: string | undefined;
}

const VIEW_KEY = 'authz.request';

/** The authorization view of a request, computed once per request and shared by the authz stages. */
export function authzRequest(ctx: RequestContext): AuthzRequest {
  const cached = ctx.state.get(VIEW_KEY) as AuthzRequest | undefined;
  if (cached !== undefined) return cached;
  const method = ctx.method.toUpperCase();
  const operation = ctx.operation;
  const view: AuthzRequest = {
    method: method === 'HEAD' ? 'GET' : method,
    path: ctx.path,
    operationId: operation?.operationId,
    pathTemplate: operation?.pathTemplate,
  };
  ctx.state.set(VIEW_KEY, view);
  return view;
}
