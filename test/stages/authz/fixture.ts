import { Writable } from 'node:stream';
import pino from 'pino';
import { ConfigError } from '../../../src/config/config-error.js';
import type { GatewayConfig, RouteConfig } from '../../../src/config/types.js';
import { Metrics } from '../../../src/observe/metrics.js';
import type { BuildContext } from '../../../src/pipeline/build-context.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import type { Identity } from '../../../src/pipeline/identity.js';
import type { Services } from '../../../src/pipeline/services.js';
import type { AccessStage, StageDefinition } from '../../../src/pipeline/stage.js';

/** Builds one access stage for a route with a hand-made BuildContext (no OpenAPI document). */
export async function buildAccess(
  definition: StageDefinition<unknown>,
  route: Partial<RouteConfig>,
  globals: Record<string, unknown> = {},
): Promise<{ stage: AccessStage | undefined; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const services: Services = {
    logger: pino({ level: 'info' }, sink),
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map(),
    onClose: () => undefined,
  };
  const full = { name: 'r', match: { pathPrefix: '/' }, upstream: 'u', ...route } as RouteConfig;
  const config = { version: 1, listeners: [], upstreams: {}, routes: [full], ...globals } as GatewayConfig;
  const pointer = '/routes/0/authorization';
  const build: BuildContext = {
    file: 'portcullis.yaml',
    configDir: '/nonexistent',
    config,
    route: full,
    routeIndex: 0,
    pointer,
    services,
    memo: new Map(),
    resolvePath: (p) => p,
    fail(message, sub = '') {
      throw new ConfigError('portcullis.yaml', [{ pointer: pointer + sub, message }]);
    },
    warn() {},
  };
  const section = definition.routeKey === undefined ? undefined : full[definition.routeKey];
  const stage = (await definition.build(section, build)) as AccessStage | undefined;
  return { stage, logs };
}

export function identity(partial: Partial<Identity> = {}): Identity {
  return { subject: 'alice', method: 'api_key', roles: [], scopes: [], attributes: {}, ...partial };
}

/** A RequestContext object for one request. */
export function requestContext(options: {
  method?: string;
  path: string;
  query?: string;
  identity?: Identity;
  clientIp?: string;
  tlsSocket?: RequestContext['tlsSocket'];
  headers?: Record<string, string>;
}): RequestContext {
  const headers = options.headers ?? {};
  return {
    id: 'req-1',
    startNs: 0n,
    req: {} as RequestContext['req'],
    method: options.method ?? 'GET',
    path: options.path,
    query: options.query ?? '',
    host: 'api.test',
    clientIp: options.clientIp ?? '192.0.2.10',
    protocol: options.tlsSocket === undefined ? 'http' : 'https',
    tlsSocket: options.tlsSocket,
    route: { name: 'r' } as RequestContext['route'],
    params: {},
    identity: options.identity,
    operation: undefined,
    body: {
      present: false,
      declaredLength: undefined,
      mediaType: undefined,
      buffered: false,
      parsed: new Map(),
    } as unknown as RequestContext['body'],
    upstreamHeaders: {},
    dropHeaders: new Set(),
    responseHeaders: {},
    state: new Map(),
    logFields: {},
    header: (name) => headers[name.toLowerCase()],
  };
}
