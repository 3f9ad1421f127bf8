import type { CompiledApi } from './types.js';

export interface GenerateRoutesOptions {
  /** Path of the document as the config should reference it. */
  readonly spec: string;
  readonly upstreamUrl: string;
  /** Upstream name in the snippet (default `api`). */
  readonly upstreamName?: string;
  /** Gateway path prefix the API is served under (stripped before forwarding), e.g. `/petstore`. */
  readonly prefix?: string;
  readonly strict?: boolean;
}

const ROUTER_PARAM = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

/**
 * A config fragment with one route per operation: method + path template, the upstream, and the
 * route's `openapi` section. Operations whose effective `security` is `[]` (or allows anonymous
 * access with `{}`) are marked `public: true`; the others need an `authentication` section before
 * the config loads, which keeps generated routes closed by default.
 */
export function generateRoutes(api: CompiledApi, options: GenerateRoutesOptions): Record<string, unknown> {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const upstream = options.upstreamName ?? 'api';
  const names = new Set<string>();
  const routes = api.operations.map((operation) => {
    const methods = operation.method === 'GET' ? ['GET', 'HEAD'] : [operation.method];
    const base = slug(operation.operationId ?? `${operation.method}-${operation.pathTemplate}`);
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`;
    names.add(name);
    const anonymous =
      operation.security.length === 0 || operation.security.some((r) => Object.keys(r).length === 0);
    return {
      name,
      ...(anonymous ? { public: true } : {}),
      match: { methods, path: prefix + routerPath(operation.pathTemplate) },
      upstream,
      ...(prefix === '' ? {} : { stripPrefix: prefix }),
      openapi: {
        spec: options.spec,
        ...(prefix === '' ? {} : { basePath: prefix }),
        strict: options.strict ?? true,
      },
    };
  });
  return { upstreams: { [upstream]: { targets: [{ url: options.upstreamUrl }] } }, routes };
}

/** The router accepts whole-segment `{param}`s only: mixed segments become one parameter. */
function routerPath(template: string): string {
  return template
    .split('/')
    .map((segment) => {
      if (!segment.includes('{') || ROUTER_PARAM.test(segment)) return segment;
      const names = [...segment.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1] ?? '');
      return `{${slug(names.join('_')).replaceAll('-', '_') || 'param'}}`;
    })
    .join('/');
}

function slug(text: string): string {
  return text
    .replace(/[{}]/g, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}
