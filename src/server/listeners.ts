import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { ListenerConfig, ServerLimitsConfig } from '../config/types.js';
import { ERROR_CATALOGUE, problemType, type ErrorCode } from '../errors/catalogue.js';
import type { Logger } from '../observe/logger.js';
import { normalizeAddress } from '../proxy/client-address.js';
import { limitHttp2RequestTime } from './http2-request-timeout.js';
import { guardRapidReset } from './rapid-reset.js';
import { TlsContexts } from './tls.js';

/** node:http's `upgrade` event: an HTTP/1.1 request with `Upgrade`, its socket and the bytes after its head. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Requests; an `upgrade` entry on it (the runner's) takes HTTP/1.1 upgrade requests. */
export type RequestHandler = ((
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void) & { readonly upgrade?: UpgradeHandler };

export interface Listener {
  readonly name: string;
  readonly server: HttpServer | Http2SecureServer;
  readonly secure: boolean;
  /** Bound address, once listening. */
  address(): { host: string; port: number };
  /** Stops accepting, lets in-flight requests finish, closes idle connections. */
  close(): Promise<void>;
  /** Destroys every remaining connection. */
  destroy(): void;
}

export const LIMIT_DEFAULTS = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxUrlLength: 8 * 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
  shutdownTimeoutMs: 15_000,
  http2MaxConcurrentStreams: 100,
  /** Streams a client may cancel at once on one HTTP/2 session before it is cut (rapid reset). */
  http2ResetBurst: 200,
  /** Cancelled streams per second a client may sustain on one HTTP/2 session. */
  http2ResetsPerSecond: 50,
} as const;

export type Limits = { -readonly [K in keyof typeof LIMIT_DEFAULTS]: number };

export function resolveLimits(config: ServerLimitsConfig | undefined): Limits {
  return { ...LIMIT_DEFAULTS, ...(config as Partial<Limits> | undefined) };
}

/** A raw HTTP/1.1 problem answer for errors found by the parser, before any request object exists. */
function rawProblem(code: ErrorCode): string {
  const spec = ERROR_CATALOGUE[code];
  const body = JSON.stringify({ type: problemType(code), title: spec.title, status: spec.status, code });
  return (
    `HTTP/1.1 ${spec.status} ${spec.title}\r\nContent-Type: application/problem+json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function clientErrorCode(error: NodeJS.ErrnoException): ErrorCode {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'headers_too_large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'request_timeout';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return 'bad_framing';
    default:
      return 'bad_request';
  }
}

/** Applies connection caps (total and per client IP) and parser errors as problem answers. */
function harden(
  server: HttpServer | Http2SecureServer,
  limits: Limits,
  logger: Logger,
  name: string,
): Set<Socket> {
  const sockets = new Set<Socket>();
  const perIp = new Map<string, number>();
  server.maxConnections = limits.maxConnections;
  const onConnection = (socket: Socket) => {
    const ip = normalizeAddress(socket.remoteAddress);
    const count = (perIp.get(ip) ?? 0) + 1;
    if (count > limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    perIp.set(ip, count);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
  };
  // TLS servers see the raw TCP socket on 'connection' too.
  server.on('connection', onConnection);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = clientErrorCode(error);
    logger.debug({ listener: name, reason: error.code }, 'client error');
    socket.end(rawProblem(code));
  });
  return sockets;
}

/**
 * Refuses requests with more than `max` header fields with 431. Node's `maxHeadersCount` only
 * drops the extra fields silently, so the parser is allowed one more and the excess is caught here.
 */
function headerCountGuard(handler: RequestHandler, max: number): RequestHandler {
  return (req, res) => {
    if (req.rawHeaders.length <= max * 2) {
      handler(req, res);
      return;
    }
    const spec = ERROR_CATALOGUE.headers_too_large;
    const body = JSON.stringify({
      type: problemType('headers_too_large'),
      title: spec.title,
      status: spec.status,
      code: 'headers_too_large',
    });
    const headers: Record<string, string> = {
      'content-type': 'application/problem+json',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (req.httpVersionMajor === 1) headers.connection = 'close';
    (res as ServerResponse).writeHead(spec.status, headers);
    res.end(body);
  };
}

/**
 * HTTP/1.1 `Upgrade` requests (WebSocket handshakes; over TLS too, where clients use HTTP/1.1 for
 * them). node:http hands them over without a response object and with no timeout left on the
 * socket: the handshake gets `requestTimeoutMs` until the tunnel sets its own idle timeout.
 * Returns the sockets handed over, which a closing listener cuts (tunnels never drain by themselves).
 */
function handleUpgrades(
  server: HttpServer | Http2SecureServer,
  upgrade: UpgradeHandler | undefined,
  limits: Limits,
): Set<Duplex> {
  const upgraded = new Set<Duplex>();
  (server as HttpServer).on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (upgrade === undefined) {
      socket.end(rawProblem('websocket_not_enabled'));
      return;
    }
    if (req.rawHeaders.length > limits.maxHeaderCount * 2) {
      socket.end(rawProblem('headers_too_large'));
      return;
    }
    (socket as Socket).setTimeout(limits.requestTimeoutMs, () => socket.destroy());
    upgrade(req, socket, head);
  });
  return upgraded;
}

/** Where a redirecting listener sends a request: the same host and target on HTTPS. */
function httpsLocation(
  req: { readonly headers: IncomingMessage['headers']; readonly url?: string | undefined },
  httpsPort: number,
): string {
  const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '').replace(/[^A-Za-z0-9.\-[\]:]/g, '');
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  const url = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : '/';
  return `https://${host}${port}${url}`;
}

/**
 * A redirecting listener answers upgrades (WebSocket handshakes) as it answers requests: 308 to
 * HTTPS, then close. Browsers fail a handshake on any answer but 101; clients that follow
 * redirects (`ws` with `followRedirects`) reach the `wss://` endpoint.
 */
function redirectUpgrade(httpsPort: number): UpgradeHandler {
  return (req, socket) => {
    // the location is built only from the host's safe characters and a path node:http parsed
    const location = httpsLocation(req, httpsPort).replace(/[\r\n]/g, '');
    socket.end(
      `HTTP/1.1 308 Permanent Redirect\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  };
}

/** Creates (but does not start) one listener. */
export async function createListener(
  config: ListenerConfig,
  limits: Limits,
  handler: RequestHandler,
  logger: Logger,
  resolvePath: (p: string) => string,
): Promise<{ listener: Listener; tls: TlsContexts | undefined }> {
  const name = config.name ?? `${config.tls ? 'https' : 'http'}:${config.port}`;
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks headers/request timeouts only on this interval (default 30 s): without it a
    // slowloris connection outlives headersTimeoutMs by up to 30 s.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
    ),
    requireHostHeader: true,
    insecureHTTPParser: false,
    noDelay: true,
  };
  let server: HttpServer | Http2SecureServer;
  let tls: TlsContexts | undefined;
  const redirect = config.redirectToHttps;
  const effectiveHandler: RequestHandler = redirect
    ? (req, res) => {
        res.writeHead(308, { location: httpsLocation(req, redirect.port), 'content-length': '0' });
        res.end();
      }
    : handler;
  const guardedHandler = headerCountGuard(effectiveHandler, limits.maxHeaderCount);
  if (config.tls) {
    tls = await TlsContexts.create(config.tls, resolvePath, logger);
    const tlsOptions: TlsOptions = tls.serverOptions;
    if (config.tls.http2 !== false) {
      server = createSecureServer({
        ...tlsOptions,
        allowHTTP1: true,
        maxHeaderListPairs: limits.maxHeaderCount,
        maxSessionInvalidFrames: 100,
        maxSessionRejectedStreams: 100,
        settings: {
          maxConcurrentStreams: limits.http2MaxConcurrentStreams,
          maxHeaderListSize: limits.maxHeaderBytes,
        },
        ALPNProtocols: ['h2', 'http/1.1'],
      } as Parameters<typeof createSecureServer>[0]);
      server.on('request', guardedHandler);
      server.setTimeout(limits.requestTimeoutMs);
      limitHttp2RequestTime(server, limits.requestTimeoutMs);
      server.on('session', (session) => {
        session.setTimeout(limits.keepAliveTimeoutMs * 12, () => session.close());
        guardRapidReset(
          session,
          { burst: limits.http2ResetBurst, perSecond: limits.http2ResetsPerSecond },
          (resets) => logger.warn({ listener: name, resets }, 'http2 rapid reset: session closed'),
        );
      });
    } else {
      server = createHttpsServer(
        { ...tlsOptions, ...httpOptions },
        guardedHandler as (req: IncomingMessage, res: ServerResponse) => void,
      );
      server.maxHeadersCount = limits.maxHeaderCount + 1; // one over: see headerCountGuard
    }
    const tlsServer = server;
    tls.watch((options) =>
      (tlsServer as unknown as { setSecureContext(o: TlsOptions): void }).setSecureContext(options),
    );
  } else {
    server = createHttpServer(
      httpOptions,
      guardedHandler as (req: IncomingMessage, res: ServerResponse) => void,
    );
    server.maxHeadersCount = limits.maxHeaderCount + 1; // one over: see headerCountGuard
  }
  const sockets = harden(server, limits, logger, name);
  const upgraded = handleUpgrades(
    server,
    redirect ? redirectUpgrade(redirect.port) : handler.upgrade,
    limits,
  );
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const listener: Listener = {
    name,
    server,
    secure: config.tls !== undefined,
    address() {
      const a = server.address();
      if (a === null || typeof a === 'string') return { host: config.host ?? '127.0.0.1', port: config.port };
      return { host: a.address, port: a.port };
    },
    close() {
      tls?.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        (server as HttpServer).closeIdleConnections?.();
        for (const session of sessions) session.close();
        for (const socket of upgraded) socket.destroy();
      });
    },
    destroy() {
      for (const socket of sockets) socket.destroy();
    },
  };
  return { listener, tls };
}

export function listen(listener: Listener, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = listener.server;
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
