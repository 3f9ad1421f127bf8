import type { RolesConfig } from './config.js';
import type { AuthzRequest } from './request-view.js';
import { parseSelector, type Selector } from './selector.js';

/** Every caller with an identity holds this role, so routes can grant "any signed-in caller". */
export const AUTHENTICATED_ROLE = 'authenticated';

/** A role's permissions after inheritance was flattened. */
export interface PermissionSet {
  readonly all: boolean;
  readonly operationIds: ReadonlySet<string>;
  readonly routes: readonly Selector[];
}

export interface RoleProblem {
  readonly message: string;
  /** Pointer below the roles section, e.g. `/admin/inherits/0`. */
  readonly pointer: string;
}

/**
 * Flattens role inheritance into one permission set per role. Unknown parents, cycles and
 * malformed permissions are reported through `fail` (which throws).
 */
export function compileRoles(
  roles: RolesConfig,
  fail: (problem: RoleProblem) => never,
): Map<string, PermissionSet> {
  const out = new Map<string, PermissionSet>();
  const visiting = new Set<string>();
  const flatten = (name: string, trail: readonly string[]): PermissionSet => {
    const done = out.get(name);
    if (done !== undefined) return done;
    if (visiting.has(name))
      return fail({
        message: `role inheritance cycle: ${[...trail, name].join(' -> ')}`,
        pointer: `/${esc(name)}`,
      });
    visiting.add(name);
    const role = roles[name] ?? {};
    let all = false;
    const operationIds = new Set<string>();
    const routes: Selector[] = [];
    (role.permissions ?? []).forEach((text, index) => {
      let selector: Selector;
      try {
        selector = parseSelector(text);
      } catch (error) {
        return fail({ message: (error as Error).message, pointer: `/${esc(name)}/permissions/${index}` });
      }
      if (selector.kind === 'all') all = true;
      else if (selector.kind === 'operation') operationIds.add(selector.operationId as string);
      else routes.push(selector);
    });
    (role.inherits ?? []).forEach((parent, index) => {
      if (!Object.hasOwn(roles, parent)) {
        fail({
          message: `role "${name}" inherits unknown role "${parent}"`,
          pointer: `/${esc(name)}/inherits/${index}`,
        });
      }
      const inherited = flatten(parent, [...trail, name]);
      if (inherited.all) all = true;
      for (const id of inherited.operationIds) operationIds.add(id);
      for (const selector of inherited.routes) if (!routes.includes(selector)) routes.push(selector);
    });
    visiting.delete(name);
    const set: PermissionSet = { all, operationIds, routes };
    out.set(name, set);
    return set;
  };
  for (const name of Object.keys(roles)) flatten(name, []);
  return out;
}

/**
 * True when one of `roles` grants the request. A privileged operation is granted only by `*` or
 * by a permission naming it exactly (its operationId, or its method and path), never by a
 * wildcard method or a `/**` path.
 */
export function isGranted(
  permissions: ReadonlyMap<string, PermissionSet>,
  roles: readonly string[],
  request: AuthzRequest,
  privileged: boolean,
): string | undefined {
  for (const role of roles) {
    const set = permissions.get(role);
    if (set === undefined) continue;
    if (set.all) return `${role}:*`;
    if (request.operationId !== undefined && set.operationIds.has(request.operationId)) {
      return `${role}:${request.operationId}`;
    }
    for (const selector of set.routes) {
      if ((!privileged || selector.specific) && selector.matches(request, 'grant'))
        return `${role}:${selector.text}`;
    }
  }
  return undefined;
}

function esc(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
