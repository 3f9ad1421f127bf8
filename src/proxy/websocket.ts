import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Gauge } from 'prom-client';
import { errors as undiciErrors } from 'undici';
import type { RouteConfig, WebSocketRouteConfig } from '../config/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import type { Target } from './target.js';
import { mapUpstreamError, type Upstream, type UpstreamCall } from './upstream.js';

/** A route's WebSocket settings, compiled once per loaded route config. */
export interface WebSocketPolicy {
  /** Allowed `Origin` values (lower-case serialised origins); undefined: same origin as `Host`. */
  readonly origins: ReadonlySet<string> | undefined;
  readonly anyOrigin: boolean;
  readonly idleTimeoutMs: number;
  /** Concurrent tunnels on this route in this process (0: no cap besides the listener's). */
  readonly maxConnections: number;
}

export const WEBSOCKET_DEFAULTS = { idleTimeoutSec: 600, maxConnections: 0 } as const;

/** The route's policy, or undefined when the route does not take WebSocket upgrades. */
export function compileWebSocketPolicy(config: RouteConfig['websocket']): WebSocketPolicy | undefined {
  if (config === undefined || config === false) return undefined;
  const options: WebSocketRouteConfig = config === true ? {} : config;
  const listed = options.allowedOrigins;
  const anyOrigin = listed?.includes('*') === true;
  return {
    origins:
      listed === undefined || anyOrigin
        ? undefined
        : new Set(listed.map((o) => o.replace(/\/$/, '').toLowerCase())),
    anyOrigin,
    idleTimeoutMs: (options.idleTimeoutSec ?? WEBSOCKET_DEFAULTS.idleTimeoutSec) * 1000,
    maxConnections: options.maxConnections ?? WEBSOCKET_DEFAULTS.maxConnections,
  };
}

/** True when the request asks for the `websocket` protocol (RFC 6455 §4.1: token, any case). */
export function asksForWebSocket(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  if (upgrade === undefined) return false;
  for (const token of upgrade.split(',')) if (token.trim().toLowerCase() === 'websocket') return true;
  return false;
}

const heads = new WeakMap<IncomingMessage, Buffer>();

/**
 * A node:http response written straight onto an upgrade request's socket, so the pipeline answers
 * a handshake it refuses exactly as it answers any request (problem+json, request id, log
 * stages). The connection closes after any answer but a 101, whose socket becomes the tunnel.
 * `close` is emitted once, like node:http does for its own responses.
 */
export function upgradeResponse(req: IncomingMessage, socket: Duplex, head: Buffer): ServerResponse {
  heads.set(req, head);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  let closed = false;
  const emitClose = () => {
    if (closed) return;
    closed = true;
    res.emit('close');
  };
  socket.on('error', () => socket.destroy());
  socket.once('close', emitClose);
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    if (res.statusCode !== 101) (socket as Socket).destroySoon();
    process.nextTick(emitClose);
  });
  return res;
}

/** What the runner hands over once a handshake has passed the route's access stages. */
export interface TunnelRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: RouteConfig;
  readonly upstream: Upstream;
  /** Request target sent upstream (route rewrite applied). */
  readonly path: string;
  /** End-to-end request headers plus Host and forwarding headers (Upgrade/Connection not included). */
  readonly headers: string[];
  /** `Host` the client addressed (with port), for the same-origin check. */
  readonly host: string | undefined;
  /** The scheme the client used (`https` also behind a trusted TLS-terminating proxy). */
  readonly scheme: 'http' | 'https';
  readonly requestId: string;
  /** Registers the running upstream handshake, so a client that leaves aborts it. */
  setCall(call: UpstreamCall): void;
  /** Writes the answer's head with the headers the gateway adds to every answer. */
  writeHead(status: number, headers: Record<string, string | string[]>): void;
  /** Answers with a catalogued error (problem+json) through the runner. */
  fail(error: unknown): void;
}

const SEC_WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * WebSocket tunnels of one gateway: checks the handshake against the route's policy, opens the
 * upstream handshake with undici's `upgrade` (which honours the target's TLS settings), relays
 * the 101 and then pipes the two sockets until either side closes or the tunnel is idle.
 */
export class WebSocketTunnels {
  private readonly policies = new WeakMap<RouteConfig, WebSocketPolicy | null>();
  private readonly active = new Map<string, number>();
  /** Open tunnels, read at scrape time for the byte counters. */
  private readonly live = new Set<LiveTunnel>();
  /** Bytes of closed tunnels by route. */
  private readonly closedBytes = new Map<string, TunnelBytes>();

  constructor(
    private readonly logger: Logger,
    metrics?: Metrics,
  ) {
    // read at scrape time: no work per tunnel
    const active = this.active;
    const reported = new Set<string>();
    metrics?.metric(
      'portcullis_websocket_tunnels',
      (registry) =>
        new Gauge({
          name: 'portcullis_websocket_tunnels',
          help: 'WebSocket tunnels open (or opening) by route',
          labelNames: ['route'],
          registers: [registry],
          collect() {
            // a route whose tunnels all closed reads 0 rather than vanishing
            for (const route of reported) if (!active.has(route)) this.set({ route }, 0);
            for (const [route, count] of active) {
              reported.add(route);
              this.set({ route }, count);
            }
          },
        }),
    );
    const live = this.live;
    const closedBytes = this.closedBytes;
    metrics?.metric(
      'portcullis_websocket_bytes_total',
      (registry) =>
        new Counter({
          name: 'portcullis_websocket_bytes_total',
          help: 'Bytes relayed through WebSocket tunnels by route and direction (frames as sent, after the handshake)',
          labelNames: ['route', 'direction'],
          registers: [registry],
          collect() {
            // closed tunnels' totals plus what open ones have relayed so far, read from the sockets
            const totals = new Map<string, TunnelBytes>();
            for (const [route, bytes] of closedBytes) totals.set(route, { ...bytes });
            for (const tunnel of live) {
              addBytes(totals, tunnel.route, tunnelBytes(tunnel));
            }
            this.reset();
            for (const [route, bytes] of totals) {
              this.inc({ route, direction: 'from_client' }, bytes.fromClient);
              this.inc({ route, direction: 'from_upstream' }, bytes.fromUpstream);
            }
          },
        }),
    );
  }

  policyFor(route: RouteConfig): WebSocketPolicy | undefined {
    let policy = this.policies.get(route);
    if (policy === undefined) {
      policy = compileWebSocketPolicy(route.websocket) ?? null;
      this.policies.set(route, policy);
    }
    return policy ?? undefined;
  }

  open(request: TunnelRequest): void {
    const { req, route } = request;
    const policy = this.policyFor(route);
    if (policy === undefined) {
      request.fail(new GatewayError('websocket_not_enabled', { reason: 'route_without_websocket' }));
      return;
    }
    const refusal = checkHandshake(req, policy, request.host, request.scheme);
    if (refusal) {
      request.fail(refusal);
      return;
    }
    // The slot is taken before the upstream handshake, so concurrent handshakes cannot overshoot.
    const count = this.active.get(route.name) ?? 0;
    if (policy.maxConnections > 0 && count >= policy.maxConnections) {
      request.fail(new GatewayError('concurrency_limited', { reason: 'websocket_tunnels_at_cap' }));
      return;
    }
    this.active.set(route.name, count + 1);
    let target: Target;
    try {
      target = request.upstream.acquire(undefined);
    } catch (error) {
      this.giveBack(route.name);
      request.fail(error);
      return;
    }
    const controller = new AbortController();
    let clientGone = false;
    request.setCall({
      abort() {
        clientGone = true;
        controller.abort();
      },
    });
    target.pool
      .upgrade({
        path: request.path,
        method: 'GET',
        headers: request.headers,
        protocol: 'websocket',
        signal: controller.signal,
      })
      .then(
        ({ headers, socket: upstreamSocket }) => {
          request.upstream.release(target, true);
          const client = req.socket;
          if (clientGone || client.destroyed) {
            this.giveBack(route.name);
            upstreamSocket.destroy();
            return;
          }
          request.writeHead(101, handshakeAnswerHeaders(headers));
          request.res.end();
          // An open tunnel keeps its target busy: least-connections balancing counts it.
          target.inFlight++;
          this.pipe(route.name, client, upstreamSocket, heads.get(req), policy, request.requestId, target);
        },
        (error: unknown) => {
          const refused = error instanceof undiciErrors.SocketError && error.message === 'bad upgrade';
          // An answer (even a refusal) or a client that left is not the upstream failing.
          request.upstream.release(target, refused || clientGone);
          this.giveBack(route.name);
          if (clientGone) return;
          request.fail(
            refused
              ? new GatewayError('websocket_upstream_refused', { reason: 'upstream_not_101', cause: error })
              : mapUpstreamError(error, undefined),
          );
        },
      );
  }

  private giveBack(routeName: string): void {
    const left = (this.active.get(routeName) ?? 1) - 1;
    if (left <= 0) this.active.delete(routeName);
    else this.active.set(routeName, left);
  }

  private pipe(
    routeName: string,
    client: Duplex,
    upstream: Duplex,
    head: Buffer | undefined,
    policy: WebSocketPolicy,
    requestId: string,
    target: Target,
  ): void {
    const startedAt = Date.now();
    const tunnel: LiveTunnel = {
      route: routeName,
      client: client as Socket,
      upstream: upstream as Socket,
      // the sockets' counts so far are the handshake's; `head` (sent with it) is relayed below
      clientStart: (client as Socket).bytesRead - (head?.length ?? 0),
      upstreamStart: (upstream as Socket).bytesRead,
    };
    this.live.add(tunnel);
    let ended = false;
    let closes = 0;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      this.giveBack(routeName);
      target.inFlight--;
      this.logger.debug(
        { requestId, route: routeName, why, ms: Date.now() - startedAt },
        'websocket tunnel closed',
      );
    };
    // Once both sockets have closed their counts are final: they move to the closed totals.
    const closed = () => {
      if (++closes < 2) return;
      this.live.delete(tunnel);
      addBytes(this.closedBytes, routeName, tunnelBytes(tunnel));
    };
    client.once('close', closed);
    upstream.once('close', closed);
    // Either side closing ends the other after what it already sent has been written.
    const closeOther = (other: Duplex, why: string) => () => {
      end(why);
      if (!other.destroyed) (other as Socket).destroySoon();
    };
    const destroyBoth = (why: string) => () => {
      end(why);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroyBoth('client_error'));
    upstream.on('error', destroyBoth('upstream_error'));
    client.once('close', closeOther(upstream, 'client_closed'));
    upstream.once('close', closeOther(client, 'upstream_closed'));
    (client as Socket).setTimeout(policy.idleTimeoutMs, destroyBoth('idle'));
    (upstream as Socket).setTimeout(policy.idleTimeoutMs, destroyBoth('idle'));
    (client as Socket).setNoDelay?.(true);
    (upstream as Socket).setNoDelay?.(true);
    if (head !== undefined && head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

interface LiveTunnel {
  readonly route: string;
  readonly client: Socket;
  readonly upstream: Socket;
  readonly clientStart: number;
  readonly upstreamStart: number;
}

interface TunnelBytes {
  fromClient: number;
  fromUpstream: number;
}

/** Adds `bytes` to the route's entry of `totals`. */
function addBytes(totals: Map<string, TunnelBytes>, route: string, bytes: TunnelBytes): void {
  const sum = totals.get(route) ?? { fromClient: 0, fromUpstream: 0 };
  sum.fromClient += bytes.fromClient;
  sum.fromUpstream += bytes.fromUpstream;
  totals.set(route, sum);
}

/** Bytes a tunnel has read from each side since the handshake (what it relays). */
function tunnelBytes(tunnel: LiveTunnel): TunnelBytes {
  return {
    fromClient: Math.max(0, (tunnel.client.bytesRead ?? 0) - tunnel.clientStart),
    fromUpstream: Math.max(0, (tunnel.upstream.bytesRead ?? 0) - tunnel.upstreamStart),
  };
}

/** Answer headers not relayed on a 101 (framing and proxy hop-by-hop headers). */
const NOT_RELAYED = new Set([
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'proxy-authenticate',
  'trailer',
  'te',
]);

/** The upstream's 101 headers for the client: Upgrade and Connection set, framing ones dropped. */
function handshakeAnswerHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !NOT_RELAYED.has(name)) out[name] = value;
  }
  out.connection = 'Upgrade';
  out.upgrade = 'websocket';
  return out;
}

/** Refuses handshakes that are not RFC 6455 ones, and browsers' cross-site handshakes. */
function checkHandshake(
  req: IncomingMessage,
  policy: WebSocketPolicy,
  host: string | undefined,
  scheme: 'http' | 'https',
): GatewayError | undefined {
  const headers = req.headers;
  if (req.method !== 'GET' || req.httpVersion !== '1.1')
    return new GatewayError('bad_request', { reason: 'websocket_handshake_not_get_http11' });
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !SEC_WEBSOCKET_KEY.test(key))
    return new GatewayError('bad_request', { reason: 'websocket_key_invalid' });
  if (headers['sec-websocket-version'] !== '13')
    return new GatewayError('bad_request', {
      reason: 'websocket_version_unsupported',
      headers: { 'sec-websocket-version': '13' },
    });
  if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined)
    return new GatewayError('bad_request', { reason: 'websocket_handshake_with_body' });
  const origin = headers.origin;
  if (origin === undefined || policy.anyOrigin) return undefined;
  if (!originAllowed(origin, policy.origins, host, scheme))
    return new GatewayError('websocket_origin_forbidden', { reason: 'origin_not_allowed' });
  return undefined;
}

function originAllowed(
  origin: string,
  allowed: ReadonlySet<string> | undefined,
  host: string | undefined,
  scheme: 'http' | 'https',
): boolean {
  const value = origin.trim().toLowerCase();
  if (allowed !== undefined) return allowed.has(value);
  // Same origin: the page's scheme, host and port are those the handshake addressed. The scheme
  // matters: a plain-http page (which anyone on the network can inject script into) is another
  // origin than the https endpoint that its browser would send the user's cookies to.
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === `${scheme}:` && url.host === host.toLowerCase();
}
