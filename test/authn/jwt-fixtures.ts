import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import type { BuildContext } from '../../src/pipeline/build-context.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Services } from '../../src/pipeline/services.js';
import { Metrics } from '../../src/observe/metrics.js';
import { ConfigError } from '../../src/config/config-error.js';
import type { GatewayConfig, RouteConfig } from '../../src/config/types.js';

/** A request context with just what authenticators read. */
export function fakeContext(headers: Record<string, string>, tlsSocket?: Partial<TLSSocket>): RequestContext {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    header: (name: string) => lower[name],
    tlsSocket: tlsSocket as TLSSocket | undefined,
    logFields: {},
    state: new Map(),
  } as unknown as RequestContext;
}

export function bearer(token: string): RequestContext {
  return fakeContext({ authorization: `Bearer ${token}` });
}

export function testServices(): Services & { close(): Promise<void> } {
  const closers: (() => Promise<void> | void)[] = [];
  return {
    logger: pino({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map(),
    onClose: (fn) => closers.push(fn),
    async close() {
      for (const fn of closers.reverse()) await fn();
    },
  };
}

export function testBuild(
  config: Partial<GatewayConfig>,
  route: Partial<RouteConfig> = {},
  services = testServices(),
): BuildContext {
  const full = {
    version: 1,
    listeners: [],
    upstreams: {},
    routes: [],
    ...config,
  } as unknown as GatewayConfig;
  return {
    file: 'test.yaml',
    configDir: process.cwd(),
    config: full,
    route: { name: 'r', match: { pathPrefix: '/' }, upstream: 'u', ...route } as RouteConfig,
    routeIndex: 0,
    pointer: '/routes/0/authentication',
    services,
    fail(message: string, subPointer?: string): never {
      throw new ConfigError('test.yaml', [{ pointer: subPointer ?? '/routes/0/authentication', message }]);
    },
    warn() {},
    resolvePath: (path: string) => path,
    memo: new Map(),
  };
}

/** A JWKS server on loopback whose document and availability the test controls. */
export interface JwksServer {
  readonly url: string;
  hits: number;
  body: string;
  status: number;
  close(): Promise<void>;
}

export async function startJwksServer(initial: unknown): Promise<JwksServer> {
  const state = { hits: 0, body: JSON.stringify(initial), status: 200 };
  const server: Server = createServer((_req, res) => {
    state.hits += 1;
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(state.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const result = {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get hits() {
      return state.hits;
    },
    set hits(value: number) {
      state.hits = value;
    },
    get body() {
      return state.body;
    },
    set body(value: string) {
      state.body = value;
    },
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return result;
}
