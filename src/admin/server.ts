import { timingSafeEqual, createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AdminConfig } from '../config/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import { renderProblem } from '../errors/render.js';
import { readAll } from '../pipeline/lazy-body.js';
import type { Services } from '../pipeline/services.js';
import { TlsContexts } from '../server/tls.js';
import { AdminRouter, type AdminModule, type AdminModuleContext, type AdminRequest } from './router.js';

const WEAK_TOKENS = new Set(['changeme', 'admin', 'password', 'secret', 'portcullis', 'token', 'default']);

/** Refuses admin tokens that are short, low-entropy or well-known. Returns a reason or undefined. */
export function weakTokenReason(token: string): string | undefined {
  if (token.length < 32) return 'must be at least 32 characters';
  const lower = token.toLowerCase();
  for (const weak of WEAK_TOKENS)
    if (lower.includes(weak) && lower.length < weak.length + 24) return 'is a well-known default';
  if (new Set(token).size < 10) return 'has too few distinct characters';
  return undefined;
}

async function loadAdminModules(router: AdminRouter, context: AdminModuleContext): Promise<void> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'routes');
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.(ts|js)$/.test(n) && !n.endsWith('.d.ts'))
      .sort();
  } catch {
    return;
  }
  for (const name of names) {
    const module = (await import(pathToFileURL(join(dir, name)).href)) as { default?: AdminModule };
    if (typeof module.default === 'function') await module.default(router, context);
  }
}

export interface AdminServer {
  readonly server: Server;
  readonly router: AdminRouter;
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

/** The admin listener: health, readiness, metrics and the admin API (token or client certificate). */
export async function createAdminServer(
  config: AdminConfig,
  services: Services,
  context: Omit<AdminModuleContext, 'services'>,
  resolvePath: (p: string) => string,
): Promise<AdminServer> {
  const router = new AdminRouter();
  let ready = false;
  const tokenDigest = config.token ? createHash('sha256').update(config.token).digest() : undefined;
  const clientCertAuth = config.tls?.clientAuth?.mode === 'require';

  router.route('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }), { public: true });
  router.route(
    'GET',
    '/readyz',
    () =>
      ready ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } },
    {
      public: true,
    },
  );
  router.route(
    'GET',
    '/metrics',
    async () => ({
      status: 200,
      body: await services.metrics.registry.metrics(),
      contentType: services.metrics.registry.contentType,
    }),
    { public: true },
  );
  await loadAdminModules(router, { ...context, services });

  const authenticated = (req: IncomingMessage): boolean => {
    if (clientCertAuth && (req.socket as TLSSocket).authorized === true) return true;
    if (!tokenDigest) return false;
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    const presented = createHash('sha256').update(header.slice(7)).digest();
    return timingSafeEqual(presented, tokenDigest);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      const found = router.match(req.method ?? 'GET', url.pathname);
      if (!found) throw new GatewayError('admin_not_found');
      if ('allow' in found)
        throw new GatewayError('method_not_allowed', { headers: { allow: found.allow.join(', ') } });
      if (!found.route.public && !authenticated(req)) {
        throw new GatewayError('admin_unauthenticated', {
          headers: { 'www-authenticate': 'Bearer realm="portcullis-admin"' },
        });
      }
      const request: AdminRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        params: found.params,
        query: url.searchParams,
        headers: req.headers,
        async json() {
          const buffer = await readAll(
            req,
            1024 * 1024,
            () => new GatewayError('admin_bad_request', { detail: 'body too large' }),
          );
          if (buffer.length === 0) return {};
          try {
            return JSON.parse(buffer.toString('utf8')) as unknown;
          } catch {
            throw new GatewayError('admin_bad_request', { detail: 'body is not valid JSON' });
          }
        },
      };
      const response = await found.route.handler(request);
      if (response.status === 204) {
        // no content: no Content-Length or Content-Type either (RFC 9110 §8.6)
        res.writeHead(204, { 'cache-control': 'no-store', ...response.headers });
        res.end();
        return;
      }
      const body =
        response.body === undefined
          ? ''
          : response.contentType
            ? String(response.body)
            : JSON.stringify(response.body);
      res.writeHead(response.status, {
        'content-type': response.contentType ?? 'application/json',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
        ...response.headers,
      });
      res.end(body);
    } catch (error) {
      if (!(error instanceof GatewayError)) services.logger.error({ err: error }, 'admin API error');
      const rendered = renderProblem(error);
      res.writeHead(rendered.status, {
        ...rendered.headers,
        'content-length': Buffer.byteLength(rendered.body),
      });
      res.end(rendered.body);
    }
  };

  let server: Server;
  let tls: TlsContexts | undefined;
  if (config.tls) {
    tls = await TlsContexts.create(config.tls, resolvePath, services.logger);
    server = createHttpsServer(tls.serverOptions, (req, res) => void handler(req, res));
  } else {
    server = createHttpServer(
      { requestTimeout: 30_000, headersTimeout: 10_000 },
      (req, res) => void handler(req, res),
    );
  }
  return {
    server,
    router,
    setReady(value) {
      ready = value;
    },
    close() {
      tls?.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
