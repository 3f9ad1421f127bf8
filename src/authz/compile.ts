import { ConfigError } from '../config/config-error.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../json/limits.js';
import type { SecurityRequirement } from '../openapi/types.js';
import type { Services } from '../pipeline/services.js';
import { compileAddressList, compileTimeWindows, type AddressList, type TimeWindows } from './conditions.js';
import type { AuthorizationConfig, PropertyList, RolesConfig } from './config.js';
import { authzAudit, type AuthzAudit } from './decision.js';
import { compileOwnershipRule, type OwnershipRule } from './ownership.js';
import {
  operationPathSelector,
  selectedOperations,
  withOperationPaths,
  type OperationInfo,
} from './operations.js';
import { createPolicyClient, type PolicyClient } from './policy-client.js';
import { compilePropertyList, type PropertyTree } from './property-tree.js';
import { compileRoles, type PermissionSet } from './roles.js';
import { parseSelector, type Selector } from './selector.js';

/** Everything a route's authorization stages need, compiled once per config load. */
export interface RoutePolicy {
  readonly routeName: string;
  readonly audit: AuthzAudit;
  readonly services: Services;
  /** Undefined when RBAC is off for the route. */
  readonly permissions: ReadonlyMap<string, PermissionSet> | undefined;
  readonly claimPaths: readonly (readonly string[])[];
  readonly privileged: readonly Selector[];
  readonly scopes: ScopePolicy | undefined;
  readonly ownership: readonly OwnershipRule[];
  readonly policy:
    | {
        readonly client: PolicyClient;
        readonly selectors: readonly Selector[] | undefined;
        /** Send the parsed JSON request body as `input.body`. */
        readonly includeBody: boolean;
      }
    | undefined;
  readonly properties: readonly PropertyRule[];
  readonly conditions: Conditions | undefined;
  readonly enumeration:
    | { readonly maxDistinctIds: number; readonly windowMs: number; readonly action: 'report' | 'throttle' }
    | undefined;
  readonly methodOverride: boolean;
  /** Hardened JSON reader limits for body rules (the route's OpenAPI limits when it has a document). */
  readonly jsonLimits: JsonLimits;
  readonly maxResponseBytes: number;
  /** The route's OpenAPI operations by `METHOD /template` and by operationId, when a document is attached. */
  readonly operations: ReadonlyMap<string, OperationInfo> | undefined;
}

export type ScopePolicy =
  | { readonly mode: 'openapi' }
  | {
      readonly mode: 'map';
      readonly entries: readonly { readonly selector: Selector; readonly scopes: readonly string[] }[];
    };

export interface PropertyRule {
  readonly selectors: readonly Selector[];
  readonly write: ReadonlyMap<string, PropertyTree> | undefined;
  readonly read: ReadonlyMap<string, PropertyTree> | undefined;
}

export interface Conditions {
  readonly allow: AddressList | undefined;
  readonly deny: AddressList | undefined;
  readonly requireMtls: boolean;
  readonly windows: TimeWindows | undefined;
}

export interface CompileEnv {
  readonly file: string;
  readonly routeName: string;
  /** Parameter names of the route's `match.path` template. */
  readonly routeParams: ReadonlySet<string>;
  readonly globalRoles: RolesConfig | undefined;
  readonly operations: readonly OperationInfo[] | undefined;
  readonly services: Services;
  /** The route's OpenAPI JSON limits, when it has a document. */
  readonly jsonLimits?: JsonLimits | undefined;
  /** Request-path prefix the OpenAPI paths are relative to (`''` when none). */
  readonly basePath?: string;
  /** Throws a config error at a pointer below the route's authorization section. */
  fail(message: string, pointer: string): never;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const DEFAULT_RESPONSE_BYTES = 10 * 1024 * 1024;

export function operationKey(method: string, pathTemplate: string): string {
  return `${method.toUpperCase()} ${pathTemplate}`;
}

/** Compiles one route's `authorization` section. Every mistake is a config error at its pointer. */
export function compileRoutePolicy(config: AuthorizationConfig, env: CompileEnv): RoutePolicy {
  const { fail, operations } = env;
  const basePath = env.basePath ?? '';
  const parse = (text: string, pointer: string): Selector => {
    let selector: Selector;
    try {
      selector = parseSelector(text);
    } catch (error) {
      return fail((error as Error).message, pointer);
    }
    if (operations === undefined && selector.kind === 'operation') {
      fail(
        `"${text}" is an operationId but the route has no OpenAPI document; use "METHOD /path/{param}"`,
        pointer,
      );
    }
    if (
      operations !== undefined &&
      selector.kind !== 'all' &&
      selectedOperations(selector, operations, basePath).length === 0
    ) {
      fail(`"${text}" names no operation of the route's OpenAPI document`, pointer);
    }
    return operations === undefined ? selector : withOperationPaths(selector, operations, basePath);
  };
  const many = (value: string | readonly string[] | undefined, pointer: string): Selector[] =>
    value === undefined
      ? [parse('*', pointer)]
      : typeof value === 'string'
        ? [parse(value, pointer)]
        : value.map((text, index) => parse(text, `${pointer}/${index}`));

  // Roles: the shared section, with the route's own definitions replacing same-named ones.
  const merged: Record<string, NonNullable<RolesConfig[string]>> = { ...env.globalRoles, ...config.roles };
  const anyRoles = Object.keys(merged).length > 0;
  let permissions: ReadonlyMap<string, PermissionSet> | undefined;
  if (config.rbac !== false && anyRoles) {
    permissions = compileRoles(merged, (problem) => {
      const local =
        config.roles !== undefined && Object.hasOwn(config.roles, problem.pointer.split('/')[1] ?? '');
      if (local) return fail(problem.message, `/roles${problem.pointer}`);
      throw new ConfigError(env.file, [{ pointer: `/roles${problem.pointer}`, message: problem.message }]);
    });
    if (config.roles !== undefined) checkRoleOperations(config.roles, parse);
  } else if (config.rbac === true) {
    fail('rbac is on but no role is defined (route roles or the top-level roles section)', '/rbac');
  }
  const claims = config.rolesFrom?.claim;
  const claimPaths = (claims === undefined ? [] : typeof claims === 'string' ? [claims] : claims).map(
    (path) => path.split('.'),
  );

  const privileged = (config.privileged ?? []).map((text, index) => parse(text, `/privileged/${index}`));
  for (const op of operations ?? []) {
    const path = op.privileged ? operationPathSelector(op, basePath) : undefined;
    if (path !== undefined) privileged.push(path);
  }
  if (config.privileged !== undefined && permissions === undefined) {
    fail('privileged operations need roles (RBAC) on the route', '/privileged');
  }

  let scopes: ScopePolicy | undefined;
  // With an OpenAPI document, its security requirements apply unless the route says `scopes: false`.
  const scopeMode = config.scopes ?? (operations === undefined ? undefined : 'openapi');
  if (scopeMode === 'openapi') {
    if (operations === undefined)
      return fail('scopes: openapi needs an OpenAPI document on the route (openapi.spec)', '/scopes');
    for (const op of operations)
      checkScopes(op.security, (message) =>
        fail(`${op.operationId ?? op.pathTemplate}: ${message}`, '/scopes'),
      );
    scopes = { mode: 'openapi' };
  } else if (scopeMode !== undefined && scopeMode !== false) {
    const entries = Object.entries(scopeMode).map(([text, list]) => {
      const pointer = `/scopes/${text.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      for (const scope of list)
        if (!SCOPE_TOKEN.test(scope)) fail(`"${scope}" is not a valid scope token`, pointer);
      return { selector: parse(text, pointer), scopes: list };
    });
    scopes = { mode: 'map', entries };
  }

  const routeParams = env.routeParams;
  const ownership = (config.ownership ?? []).map((rule, index) =>
    compileOwnershipRule(rule, {
      operations,
      basePath,
      routeParams,
      widen: (selector) =>
        operations === undefined ? selector : withOperationPaths(selector, operations, basePath),
      fail: (message, pointer) => fail(message, `/ownership/${index}${pointer}`),
    }),
  );

  let policy: RoutePolicy['policy'];
  if (config.policy !== undefined) {
    try {
      new URL(config.policy.url);
    } catch {
      fail(`"${config.policy.url}" is not a URL`, '/policy/url');
    }
    policy = {
      client: createPolicyClient(config.policy, env.services),
      selectors: config.policy.operations?.map((text, index) => parse(text, `/policy/operations/${index}`)),
      includeBody: config.policy.includeBody === true,
    };
  }

  const properties = (config.properties ?? []).map((rule, index): PropertyRule => {
    const pointer = `/properties/${index}`;
    const trees = (lists: Readonly<Record<string, PropertyList>> | undefined, kind: string) => {
      if (lists === undefined) return undefined;
      const out = new Map<string, PropertyTree>();
      for (const [roleName, list] of Object.entries(lists)) {
        try {
          out.set(roleName, compilePropertyList(list));
        } catch (error) {
          fail((error as Error).message, `${pointer}/${kind}/${roleName}`);
        }
      }
      return out;
    };
    if (rule.write === undefined && rule.read === undefined)
      fail('a property rule needs write or read', pointer);
    return {
      selectors: many(rule.operation, `${pointer}/operation`),
      write: trees(rule.write, 'write'),
      read: trees(rule.read, 'read'),
    };
  });

  let conditions: Conditions | undefined;
  if (config.conditions !== undefined) {
    const c = config.conditions;
    const list = (entries: readonly string[] | undefined, key: string): AddressList | undefined => {
      if (entries === undefined) return undefined;
      try {
        return compileAddressList(entries);
      } catch (error) {
        return fail((error as Error).message, `/conditions/${key}`);
      }
    };
    let windows: TimeWindows | undefined;
    if (c.timeWindows !== undefined) {
      try {
        windows = compileTimeWindows(c.timeWindows);
      } catch (error) {
        fail((error as Error).message, '/conditions/timeWindows');
      }
    }
    conditions = {
      allow: list(c.ipAllow, 'ipAllow'),
      deny: list(c.ipDeny, 'ipDeny'),
      requireMtls: c.requireMtls === true,
      windows,
    };
  }

  const enumeration =
    config.enumeration === false
      ? undefined
      : {
          maxDistinctIds: config.enumeration?.maxDistinctIds ?? 20,
          windowMs: (config.enumeration?.windowSec ?? 60) * 1000,
          action: config.enumeration?.action ?? 'report',
        };

  if (permissions === undefined && scopes === undefined && ownership.length === 0 && policy === undefined) {
    fail(
      'the authorization section grants nothing: define roles (here or in the top-level roles section), scopes, ownership rules or a policy',
      '',
    );
  }

  let byKey: Map<string, OperationInfo> | undefined;
  if (operations !== undefined) {
    byKey = new Map();
    for (const op of operations) {
      byKey.set(operationKey(op.method, op.pathTemplate), op);
      if (op.operationId !== undefined) byKey.set(op.operationId, op);
    }
  }

  return {
    routeName: env.routeName,
    audit: authzAudit(env.services),
    services: env.services,
    permissions,
    claimPaths,
    privileged,
    scopes,
    ownership,
    policy,
    properties,
    conditions,
    enumeration,
    methodOverride: config.methodOverride === true,
    jsonLimits: {
      ...(env.jsonLimits ?? DEFAULT_JSON_LIMITS),
      maxBodyBytes: config.maxBodyBytes ?? env.jsonLimits?.maxBodyBytes ?? DEFAULT_JSON_LIMITS.maxBodyBytes,
    },
    maxResponseBytes: config.maxResponseBytes ?? DEFAULT_RESPONSE_BYTES,
    operations: byKey,
  };
}

function checkRoleOperations(roles: RolesConfig, parse: (text: string, pointer: string) => Selector): void {
  for (const [name, role] of Object.entries(roles)) {
    (role.permissions ?? []).forEach((text, index) => parse(text, `/roles/${name}/permissions/${index}`));
  }
}

function checkScopes(requirements: readonly SecurityRequirement[], fail: (message: string) => never): void {
  for (const requirement of requirements) {
    for (const list of Object.values(requirement)) {
      for (const scope of list) if (!SCOPE_TOKEN.test(scope)) fail(`"${scope}" is not a valid scope token`);
    }
  }
}

/** Path parameter names of a route's `match.path` template. */
export function templateParams(path: string | undefined): Set<string> {
  const names = new Set<string>();
  if (path !== undefined) for (const match of path.matchAll(/\{([^{}]+)\}/g)) names.add(match[1] as string);
  return names;
}
