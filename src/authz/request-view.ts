import type { RequestContext } from '../pipeline/context.js';
import { splitPath, type MatchMode } from './path-template.js';

/** What authorization rules look at to decide which operation a request is. */
export class AuthzRequest {
  /** Upper case; HEAD is authorised as GET (upstreams answer HEAD with their GET handler). */
  readonly method: string;
  /** The normalised request path. */
  readonly path: string;
  readonly operationId: string | undefined;
  /** The OpenAPI path template the request matched, when an OpenAPI document is attached. */
  readonly pathTemplate: string | undefined;
  private grantParts: readonly string[] | undefined;
  private restrictParts: readonly string[] | undefined;

  constructor(method: string, path: string, operationId?: string, pathTemplate?: string) {
    const upper = method === 'GET' || method === 'POST' ? method : method.toUpperCase();
    this.method = upper === 'HEAD' ? 'GET' : upper;
    this.path = path;
    this.operationId = operationId;
    this.pathTemplate = pathTemplate;
  }

  /**
   * The path split for templates (computed once per mode; one split serves both modes when the
   * path has no empty segment and no `;params`, the only differences between them).
   */
  parts(mode: MatchMode): readonly string[] {
    if (mode === 'grant') return (this.grantParts ??= splitPath(this.path, 'grant'));
    return (this.restrictParts ??=
      this.path.includes(';') || this.path.includes('//')
        ? splitPath(this.path, 'restrict')
        : this.parts('grant'));
  }
}

const VIEW_KEY = 'authz.request';

/** The authorization view of a request, computed once per request and shared by the authz stages. */
export function authzRequest(ctx: RequestContext): AuthzRequest {
  const cached = ctx.state.get(VIEW_KEY) as AuthzRequest | undefined;
  if (cached !== undefined) return cached;
  const operation = ctx.operation;
  const view = new AuthzRequest(ctx.method, ctx.path, operation?.operationId, operation?.pathTemplate);
  ctx.state.set(VIEW_KEY, view);
  return view;
}
