import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import { readPath } from './identity-ref.js';
import { AUTHENTICATED_ROLE } from './roles.js';

const ROLES_KEY = 'authz.roles';
const NONE: readonly string[] = [];
/** Identities are often cached objects (API keys, tokens): their role list is reused. */
const plainRoles = new WeakMap<Identity, readonly string[]>();

/**
 * The caller's roles: those authentication set (token claims and the store's consumer), those
 * under the configured claim paths of the identity's attributes, and `authenticated`.
 * Computed once per identity object without claim paths (the same array every time), else once
 * per request.
 */
export function callerRoles(
  ctx: RequestContext,
  claimPaths: readonly (readonly string[])[],
): readonly string[] {
  const identity = ctx.identity;
  if (identity === undefined) return NONE;
  if (claimPaths.length === 0) {
    let roles = plainRoles.get(identity);
    if (roles === undefined) {
      const set = new Set<string>(identity.roles);
      addAuthenticated(set, identity);
      roles = Object.freeze([...set]);
      plainRoles.set(identity, roles);
    }
    return roles;
  }
  const cached = ctx.state.get(ROLES_KEY) as readonly string[] | undefined;
  if (cached !== undefined) return cached;
  const set = new Set<string>(identity.roles);
  for (const path of claimPaths) addRoles(set, readPath(identity.attributes, path));
  addAuthenticated(set, identity);
  const roles = [...set];
  ctx.state.set(ROLES_KEY, roles);
  return roles;
}

/** Every real identity holds `authenticated`; an anonymous one (should authentication make one) never does. */
function addAuthenticated(set: Set<string>, identity: Identity): void {
  if (identity.method === 'anonymous') set.delete(AUTHENTICATED_ROLE);
  else set.add(AUTHENTICATED_ROLE);
}

function addRoles(set: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    for (const role of value.split(/[\s,]+/)) if (role.length > 0) set.add(role);
  } else if (Array.isArray(value)) {
    for (const role of value) if (typeof role === 'string' && role.length > 0) set.add(role);
  }
}
