import { ConfigError } from '../config/config-error.js';
import { getOpenApi, routeOpenApiConfig } from '../openapi/index.js';
import type { BuildContext } from '../pipeline/build-context.js';
import { compileRoutePolicy, templateParams, type RoutePolicy } from './compile.js';
import type { AuthorizationConfig, RolesConfig } from './config.js';
import { operationsOf } from './operations.js';

/** Route config key of the authorization section, and the top-level key of shared roles. */
export const ROUTE_KEY = 'authorization';
export const ROLES_KEY = 'roles';

/**
 * The compiled policy of the route being built, shared by every authorization stage of the route
 * through `build.memo` (compiled once per load). Undefined for public routes and routes without
 * an authorization section (the rbac stage turns the latter into a config error).
 */
export function routePolicy(build: BuildContext): Promise<RoutePolicy | undefined> {
  const key = `authz:policy:${build.routeIndex}`;
  let pending = build.memo.get(key) as Promise<RoutePolicy | undefined> | undefined;
  if (pending === undefined) {
    pending = compileFor(build);
    build.memo.set(key, pending);
    pending.catch(() => undefined);
  }
  return pending;
}

async function compileFor(build: BuildContext): Promise<RoutePolicy | undefined> {
  const route = build.route;
  const config = route[ROUTE_KEY] as AuthorizationConfig | undefined;
  if (route.public === true || config === undefined || config === null) return undefined;
  const api = await getOpenApi(build, route);
  const openapi = routeOpenApiConfig(route);
  const basePath =
    api === undefined || openapi === undefined
      ? ''
      : (openapi.basePath === 'servers' ? api.serverBasePath : openapi.basePath).replace(/\/+$/, '');
  const base = `/routes/${build.routeIndex}/${ROUTE_KEY}`;
  return compileRoutePolicy(config, {
    file: build.file,
    routeName: route.name,
    routeParams: templateParams(route.match.path),
    globalRoles: build.config[ROLES_KEY] as RolesConfig | undefined,
    operations: api === undefined ? undefined : operationsOf(api),
    services: build.services,
    basePath,
    jsonLimits: openapi?.limits,
    fail(message, pointer) {
      // `build.fail` points below the calling stage's section (or the route, for stages without
      // one); every authz stage compiles the same section, so rebase onto it to keep line numbers.
      if (base.startsWith(build.pointer))
        return build.fail(message, base.slice(build.pointer.length) + pointer);
      throw new ConfigError(build.file, [{ pointer: base + pointer, message }]);
    },
  });
}
