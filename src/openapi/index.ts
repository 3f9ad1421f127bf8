import type { BuildContext } from '../pipeline/build-context.js';
import type { RouteConfig } from '../config/types.js';
import { compileApi } from './compile.js';
import { loadDocument, OpenApiLoadError, type LoadedDocument } from './load.js';
import {
  resolveOpenApiRouteConfig,
  type OpenApiRouteConfig,
  type OpenApiRouteConfigInput,
} from './route-config.js';
import type { CompiledApi } from './types.js';

export type * from './types.js';
export { resolveOpenApiRouteConfig, OPENAPI_ROUTE_SCHEMA } from './route-config.js';
export type { OpenApiRouteConfig, OpenApiRouteConfigInput, ResponseMode } from './route-config.js';

/** The route's `openapi` section with defaults applied, or undefined when the route has none. */
export function routeOpenApiConfig(route: RouteConfig): OpenApiRouteConfig | undefined {
  const section = route.openapi as OpenApiRouteConfigInput | undefined;
  if (section === undefined || section === null) return undefined;
  return resolveOpenApiRouteConfig(section);
}

/**
 * The compiled OpenAPI document of a route, or undefined when the route has no `openapi` section.
 * Loaded, validated, dereferenced and compiled once per file (and strictness) per config load:
 * every stage that calls this during one load shares the result through `build.memo`.
 * A document that cannot be loaded fails the config load at `/routes/N/openapi/spec`.
 */
export async function getOpenApi(
  build: BuildContext,
  route: RouteConfig = build.route,
): Promise<CompiledApi | undefined> {
  const config = routeOpenApiConfig(route);
  if (config === undefined) return undefined;
  const file = build.resolvePath(config.spec);
  const docKey = `openapi:doc:${file}`;
  let loading = build.memo.get(docKey) as Promise<LoadedDocument> | undefined;
  if (loading === undefined) {
    loading = loadDocument(file);
    build.memo.set(docKey, loading);
    // A failed load is reported by whichever route awaits it; keep the rejection handled.
    loading.catch(() => undefined);
  }
  const apiKey = `openapi:api:${file}:${config.strict ? 'strict' : 'lenient'}`;
  let compiled = build.memo.get(apiKey) as Promise<CompiledApi> | undefined;
  if (compiled === undefined) {
    compiled = loading.then((loaded) => compileApi(loaded, { strict: config.strict }));
    build.memo.set(apiKey, compiled);
    compiled.catch(() => undefined);
  }
  try {
    return await compiled;
  } catch (error) {
    const pointer = build.pointer.endsWith('/openapi')
      ? '/spec'
      : /^\/routes\/\d+$/.test(build.pointer)
        ? '/openapi/spec'
        : undefined;
    const message =
      error instanceof OpenApiLoadError
        ? error.message
        : `cannot compile OpenAPI document ${file}: ${(error as Error).message}`;
    return build.fail(message, pointer);
  }
}
