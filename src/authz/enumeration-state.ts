import type { RequestContext } from '../pipeline/context.js';
import { sharedService, type Services } from '../pipeline/services.js';
import type { RoutePolicy } from './compile.js';
import { EnumerationTracker } from './enumeration.js';

/**
 * The tracker of a route, shared by its detector (log phase) and guard (access phase) and kept
 * across reloads while the route's limits stay the same.
 */
export function routeTracker(services: Services, policy: RoutePolicy): EnumerationTracker | undefined {
  const settings = policy.enumeration;
  if (settings === undefined) return undefined;
  const key = `authz.enumeration:${policy.routeName}:${settings.maxDistinctIds}:${settings.windowMs}`;
  return sharedService(services, key, () => new EnumerationTracker(settings));
}

/** Who is enumerating: the consumer or subject when known, else the client address. */
export function callerKey(ctx: RequestContext): string {
  const identity = ctx.identity;
  if (identity !== undefined)
    return identity.consumerId !== undefined ? `c:${identity.consumerId}` : `s:${identity.subject}`;
  return `ip:${ctx.clientIp}`;
}

/** The object a refused request aimed at: its path and query (bounded). */
export function objectId(ctx: RequestContext): string {
  const id = ctx.query.length === 0 ? ctx.path : `${ctx.path}?${ctx.query}`;
  return id.length > 512 ? id.slice(0, 512) : id;
}
