import pino from 'pino';
import { ConfigError } from '../../src/config/config-error.js';
import type { GatewayConfig, RouteConfig } from '../../src/config/types.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { BuildContext } from '../../src/pipeline/build-context.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Identity } from '../../src/pipeline/identity.js';
import type { CompiledRoute } from '../../src/pipeline/route.js';
import type { Services } from '../../src/pipeline/services.js';

/** Services with a silent logger; `close()` runs the registered cleanups. */
export function fakeServices(): Services & { close(): Promise<void>; warnings: unknown[] } {
  const closers: (() => Promise<void> | void)[] = [];
  const warnings: unknown[] = [];
  const logger = pino({ level: 'silent' });
  logger.warn = ((obj: unknown) => {
    warnings.push(obj);
  }) as typeof logger.warn;
  return {
    logger,
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map(),
    onClose: (fn) => closers.push(fn),
    warnings,
    close: async () => {
      for (const fn of closers.reverse()) await fn();
    },
  };
}

export function fakeBuild(
  services: Services,
  options: { route?: Partial<RouteConfig>; config?: Record<string, unknown> } = {},
): BuildContext & { warnings: string[] } {
  const route = { name: 'r1', match: { pathPrefix: '/' }, upstream: 'u', ...options.route } as RouteConfig;
  const config = {
    version: 1,
    listeners: [],
    upstreams: {},
    routes: [route],
    ...options.config,
  } as GatewayConfig;
  const warnings: string[] = [];
  return {
    file: 'test.yaml',
    configDir: '/tmp',
    config,
    route,
    routeIndex: 0,
    pointer: '/routes/0',
    services,
    fail(message: string, subPointer = ''): never {
      throw new ConfigError('test.yaml', [{ pointer: `/routes/0${subPointer}`, message }]);
    },
    warn: (message: string) => warnings.push(message),
    resolvePath: (p: string) => p,
    memo: new Map(),
    warnings,
  };
}

export function fakeContext(
  options: {
    ip?: string;
    identity?: Partial<Identity>;
    headers?: Record<string, string>;
    route?: string;
    operation?: RequestContext['operation'];
  } = {},
): RequestContext {
  const headers = options.headers ?? {};
  return {
    id: 'req-1',
    startNs: 0n,
    req: {} as RequestContext['req'],
    method: 'GET',
    path: '/x',
    query: '',
    host: 'example.test',
    clientIp: options.ip ?? '192.0.2.1',
    protocol: 'http',
    tlsSocket: undefined,
    route: { name: options.route ?? 'r1' } as CompiledRoute,
    params: {},
    identity:
      options.identity === undefined
        ? undefined
        : { subject: 's', method: 'api_key', roles: [], scopes: [], attributes: {}, ...options.identity },
    operation: options.operation,
    body: {} as RequestContext['body'],
    upstreamHeaders: {},
    dropHeaders: new Set(),
    responseHeaders: {},
    state: new Map(),
    logFields: {},
    header: (name: string) => headers[name],
  };
}
