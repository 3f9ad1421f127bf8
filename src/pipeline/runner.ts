import { newRequestId, newTraceparent } from './ids.js';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors/gateway-error.js';
import { renderProblem } from '../errors/render.js';
import { normalizeTarget, type NormalizeOptions } from '../http/normalize-path.js';
import { normalizeAddress, type TrustedProxies } from '../proxy/client-address.js';
import { endToEndRequestHeaderList } from '../proxy/headers.js';
import type { Upstream, UpstreamCall, UpstreamHead, UpstreamSink } from '../proxy/upstream.js';
import { asksForWebSocket, upgradeResponse, WebSocketTunnels } from '../proxy/websocket.js';
import type { RequestContext } from './context.js';
import type { Identity } from './identity.js';
import { LazyRequestBody } from './lazy-body.js';
import type { ResponseContext } from './response.js';
import type { CompiledRoute } from './route.js';
import type { RouteTable } from './route-table.js';
import type { Services } from './services.js';
import type { LocalReply, ResponseSummary, StageResult } from './stage.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;
/** node:http sets `upgrade` (not in @types/node 20): true only on requests of its `upgrade` event. */
type MaybeUpgrade = IncomingMessage & { upgrade?: boolean };

export interface RunnerOptions {
  readonly trustedProxies: TrustedProxies;
  readonly forwardedHeaders: 'x-forwarded' | 'forwarded' | 'both' | 'none';
  readonly normalize: NormalizeOptions;
  readonly maxBodyBytes: number;
  readonly maxUrlLength: number;
  /** Upper bound for response bodies buffered by response stages. */
  readonly maxResponseBufferBytes: number;
  /** Checked first on every request: while shedding, answers 503 before any parsing. */
  readonly shedder?: { shouldShed(): boolean; readonly error: GatewayError };
  /** Added to every answer on TLS listeners (HSTS). */
  readonly secureHeaders?: Record<string, string>;
}

/** Request bodies up to this size (declared by Content-Length) are read before forwarding. */
const SMALL_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const EMPTY_DROP: ReadonlySet<string> = new Set();

/**
 * The per-request header and log field bags. Not `{}` literals: every `{}` in the process shares
 * one root map, whose transition tree fills with whatever names other code adds; V8 then builds a
 * new map for each request's first property here (bench/icount.ts: ~6 000 instructions for the
 * two RateLimit headers). A class of our own gives them their own, small tree.
 */
class Bag {}
const bag = <T>(): T => new Bag() as T;

class Context implements RequestContext {
  method: string;
  query: string;
  params: Record<string, string> = {};
  identity: Identity | undefined = undefined;
  operation: RequestContext['operation'] = undefined;
  readonly upstreamHeaders: Record<string, string> = bag();
  private drop: Set<string> | undefined;
  get dropHeaders(): Set<string> {
    return (this.drop ??= new Set());
  }
  /** The headers to drop, without allocating a set when no stage asked for one. */
  get droppedHeaders(): ReadonlySet<string> {
    return this.drop ?? EMPTY_DROP;
  }
  readonly responseHeaders: Record<string, string> = bag();
  private scratch: Map<string, unknown> | undefined;
  get state(): Map<string, unknown> {
    return (this.scratch ??= new Map());
  }
  readonly logFields: Record<string, unknown> = bag();
  upstreamStartNs = 0n;
  upstreamEndNs = 0n;
  upstreamTarget: string | undefined;
  errorCode: string | undefined;
  bytesOut = 0;
  /** The socket peer address (normalised), before trusted-proxy rules. */
  peer = '';
  /** The peer is a trusted proxy (its forwarding headers are believed). */
  peerTrusted = false;
  /** Set while an upstream call is in flight; aborted when the client goes away. */
  upstreamCall: UpstreamCall | undefined;

  constructor(
    readonly id: string,
    readonly startNs: bigint,
    readonly req: Req,
    readonly path: string,
    query: string,
    readonly host: string,
    readonly clientIp: string,
    readonly protocol: 'http' | 'https',
    readonly tlsSocket: TLSSocket | undefined,
    public route: CompiledRoute,
    readonly body: LazyRequestBody,
  ) {
    this.method = req.method ?? 'GET';
    this.query = query;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** The one request runner: normalise, route, access stages, proxy, response stages, log stages. */
export class Runner {
  table: RouteTable;

  /** The forwarding headers this gateway sets (an incoming value for them is replaced). */
  private readonly forwardingNames: ReadonlySet<string>;

  /** Created on the first WebSocket handshake. */
  private tunnels: WebSocketTunnels | undefined;

  constructor(
    table: RouteTable,
    private readonly services: Services,
    private readonly options: RunnerOptions,
  ) {
    this.table = table;
    const mode = options.forwardedHeaders;
    const names: string[] = [];
    if (mode === 'x-forwarded' || mode === 'both')
      names.push('x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host');
    if (mode === 'forwarded' || mode === 'both') names.push('forwarded');
    this.forwardingNames = new Set(names);
    // Listeners find the upgrade entry on the request handler they are given.
    (this.handle as { upgrade?: unknown }).upgrade = this.handleUpgrade;
  }

  /**
   * An HTTP/1.1 request with `Upgrade` (node:http's `upgrade` event). It runs through `handle`
   * like any request, answered on its own socket: the route's access stages decide, and a
   * WebSocket handshake they pass opens a tunnel instead of the proxy step (see `proxy`). Other
   * protocols (`h2c`, ...) are ignored as RFC 9110 §7.8 allows: an ordinary answer, then close.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const res = upgradeResponse(req, socket, head);
    if (!asksForWebSocket(req)) {
      (req as MaybeUpgrade).upgrade = false;
      // node:http parsed no body after the head: refuse one rather than forward the request without it.
      const headers = req.headers;
      if (headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0') {
        const rendered = renderProblem(new GatewayError('bad_request'));
        res.writeHead(rendered.status, {
          ...rendered.headers,
          'content-length': String(Buffer.byteLength(rendered.body)),
        });
        res.end(rendered.body);
        return;
      }
    }
    this.handle(req, res);
  };

  readonly handle = (req: Req, res: Res): void => {
    const startNs = process.hrtime.bigint();
    const metrics = this.services.metrics;
    metrics.inFlight.inc();
    let finished = false;
    const table = this.table;
    const socket = req.socket;
    const peer = normalizeAddress(socket.remoteAddress);
    const headers = req.headers;
    const trustedProxies = this.options.trustedProxies;
    const peerTrusted = trustedProxies.trusts(peer);
    const clientIp = peerTrusted ? trustedProxies.clientAddress(peer, headers['x-forwarded-for']) : peer;
    const encrypted = (socket as TLSSocket).encrypted === true;
    const protocol: 'http' | 'https' =
      encrypted || (peerTrusted && headers['x-forwarded-proto'] === 'https') ? 'https' : 'http';
    const incomingId = headers['x-request-id'];
    const id = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : newRequestId();

    let ctx: Context | undefined;
    const done = (summaryStatus: number, aborted: boolean) => {
      if (finished) return;
      finished = true;
      metrics.inFlight.dec();
      const c = ctx;
      if (!c) return;
      const endNs = process.hrtime.bigint();
      const upstreamNs = c.upstreamEndNs > 0n ? c.upstreamEndNs - c.upstreamStartNs : 0n;
      const totalNs = endNs - startNs;
      const summary: ResponseSummary = {
        status: summaryStatus,
        bytesSent: c.bytesOut,
        bytesReceived: c.body.declaredLength ?? 0,
        gatewayNs: totalNs - upstreamNs,
        upstreamNs,
        totalNs,
        aborted,
        errorCode: c.errorCode,
      };
      for (const stage of c.route.log) {
        try {
          stage.run(c, summary);
        } catch (error) {
          this.services.logger.error({ err: error, stage: stage.name }, 'log stage failed');
        }
      }
    };
    // One listener: 'close' follows 'finish' for complete answers, and comes alone on aborts.
    res.on('close', () => {
      const aborted = !res.writableFinished;
      if (aborted) ctx?.upstreamCall?.abort('client_closed');
      done(res.statusCode, aborted);
    });

    try {
      if (this.options.shedder?.shouldShed()) throw this.options.shedder.error;
      const url = req.url ?? '/';
      if (url.length > this.options.maxUrlLength) throw new GatewayError('uri_too_long');
      const te = headers['transfer-encoding'];
      if (
        te !== undefined &&
        (headers['content-length'] !== undefined || te.trim().toLowerCase() !== 'chunked')
      ) {
        throw new GatewayError('bad_framing', { reason: 'transfer_encoding_not_plain_chunked' });
      }
      const { path, query } = normalizeTarget(url, this.options.normalize);
      const host = hostOf(headers);
      const method = req.method ?? 'GET';
      const lookup = table.router.lookup(host, method, path);
      const route = lookup.kind === 'match' ? lookup.value : table.unmatched;
      const body = new LazyRequestBody(
        req,
        headers['content-length'],
        te !== undefined,
        headers['content-type'],
        this.options.maxBodyBytes,
      );
      ctx = new Context(
        id,
        startNs,
        req,
        path,
        query,
        host,
        clientIp,
        protocol,
        encrypted ? (socket as TLSSocket) : undefined,
        route,
        body,
      );
      ctx.peer = peer;
      ctx.peerTrusted = peerTrusted;
      if (lookup.kind === 'method_not_allowed') {
        throw new GatewayError('method_not_allowed', { headers: { allow: lookup.allow.join(', ') } });
      }
      if (lookup.kind === 'not_found') throw new GatewayError('not_found');
      ctx.params = lookup.params;
      if (body.declaredLength !== undefined && body.declaredLength > this.options.maxBodyBytes) {
        throw new GatewayError('payload_too_large', { reason: 'declared_length_over_limit' });
      }
      this.runAccess(ctx, res, 0);
    } catch (error) {
      if (!ctx) {
        ctx = this.bareContext(id, startNs, req, clientIp, protocol, table);
      }
      this.fail(ctx, res, error);
    }
  };

  private bareContext(
    id: string,
    startNs: bigint,
    req: Req,
    clientIp: string,
    protocol: 'http' | 'https',
    table: RouteTable,
  ): Context {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const body = new LazyRequestBody(req, undefined, false, undefined, 0);
    return new Context(
      id,
      startNs,
      req,
      q === -1 ? url : url.slice(0, q),
      '',
      hostOf(req.headers),
      clientIp,
      protocol,
      undefined,
      table.unmatched,
      body,
    );
  }

  /** Runs access stages from `index`, synchronously while they stay synchronous. */
  private runAccess(ctx: Context, res: Res, index: number): void {
    const stages = ctx.route.access;
    for (let i = index; i < stages.length; i++) {
      let result: StageResult | Promise<StageResult>;
      try {
        result = stages[i]!.run(ctx);
      } catch (error) {
        this.fail(ctx, res, error, stages[i]!.name);
        return;
      }
      if (result !== undefined && typeof (result as Promise<StageResult>).then === 'function') {
        const stageName = stages[i]!.name;
        (result as Promise<StageResult>).then(
          (value) => {
            if (value) this.reply(ctx, res, value);
            else this.runAccess(ctx, res, i + 1);
          },
          (error: unknown) => this.fail(ctx, res, error, stageName),
        );
        return;
      }
      if (result) {
        this.reply(ctx, res, result as LocalReply);
        return;
      }
    }
    this.proxy(ctx, res);
  }

  private proxy(ctx: Context, res: Res): void {
    // The client may have gone while an asynchronous stage ran: send nothing upstream.
    if (res.destroyed) return;
    const upstream = ctx.route.upstream;
    if (!upstream) {
      this.fail(ctx, res, new GatewayError('not_found', { reason: 'route_without_upstream' }));
      return;
    }
    // Set only on requests from node:http's `upgrade` event (see handleUpgrade).
    if ((ctx.req as MaybeUpgrade).upgrade === true) {
      this.tunnel(ctx, res as ServerResponse, upstream);
      return;
    }
    const body = ctx.body;
    const length = body.declaredLength;
    if (!body.buffered && body.present && length !== undefined && length <= SMALL_BODY_BYTES) {
      // A small body is read first (like nginx's request buffering): it then goes upstream in
      // the same write as the headers, and an idempotent request can be retried.
      body.read(SMALL_BODY_BYTES).then(
        () => {
          if (!res.destroyed) this.forward(ctx, res, upstream);
        },
        (error: unknown) => this.fail(ctx, res, error),
      );
      return;
    }
    this.forward(ctx, res, upstream);
  }

  private forward(ctx: Context, res: Res, upstream: Upstream): void {
    const body = ctx.body.forwardable();
    // the gateway sets Content-Length itself for a body it read (or drops it for none)
    const ownLength = Buffer.isBuffer(body) || (body === undefined && ctx.body.buffered);
    const headers = this.upstreamRequestHeaders(ctx, upstream, ownLength);
    if (Buffer.isBuffer(body)) headers.push('content-length', String(body.length));
    const path = ctx.route.rewritePath(ctx.path) + (ctx.query ? '?' + ctx.query : '');
    ctx.upstreamStartNs = process.hrtime.bigint();
    const relay = new Relay(this, ctx, res);
    ctx.upstreamCall = upstream.dispatch({ method: ctx.method, path, headers, body }, relay);
  }

  /** End-to-end request headers, then Host, forwarding headers and those stages set. */
  private upstreamRequestHeaders(ctx: Context, upstream: Upstream, ownLength: boolean): string[] {
    const req = ctx.req;
    const forwarding = this.forwardingNames;
    const replaced = ctx.upstreamHeaders;
    const headers = endToEndRequestHeaderList(
      req.headers,
      ctx.droppedHeaders,
      ctx.peerTrusted,
      (name) =>
        forwarding.has(name) || Object.hasOwn(replaced, name) || (ownLength && name === 'content-length'),
    );
    const hostHeader = ctx.route.hostHeader;
    headers.push(
      'host',
      hostHeader === 'preserve'
        ? (req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? upstream.hostHeader)
        : hostHeader === 'upstream'
          ? upstream.hostHeader
          : hostHeader.value,
    );
    this.addForwarding(ctx, headers);
    for (const name in replaced) headers.push(name, replaced[name]!);
    return headers;
  }

  /** A WebSocket handshake the access stages passed: the tunnel replaces the proxy step. */
  private tunnel(ctx: Context, res: ServerResponse, upstream: Upstream): void {
    const req = ctx.req as IncomingMessage;
    ctx.upstreamStartNs = process.hrtime.bigint();
    (this.tunnels ??= new WebSocketTunnels(this.services.logger, this.services.metrics)).open({
      req,
      res,
      route: ctx.route.config,
      upstream,
      path: ctx.route.rewritePath(ctx.path) + (ctx.query ? '?' + ctx.query : ''),
      headers: this.upstreamRequestHeaders(ctx, upstream, false),
      host: req.headers.host,
      scheme: ctx.protocol,
      requestId: ctx.id,
      setCall: (call) => (ctx.upstreamCall = call),
      writeHead: (status, headers) => {
        ctx.upstreamEndNs = process.hrtime.bigint();
        this.writeHead(ctx, res, status, headers);
      },
      fail: (error) => {
        ctx.upstreamEndNs = process.hrtime.bigint();
        this.fail(ctx, res, error);
      },
    });
  }

  /** @internal The upstream answered: stream it, or run the route's response stages first. */
  onUpstreamHead(ctx: Context, res: Res, relay: Relay, head: UpstreamHead): void {
    ctx.upstreamEndNs = process.hrtime.bigint();
    ctx.upstreamTarget = head.target;
    if (head.statusCode < ctx.route.responseFrom) {
      if (ctx.req.httpVersionMajor === 1) this.writeHeadList(ctx, res, head);
      else this.writeHead(ctx, res, head.statusCode, head.headers);
      relay.stream();
      return;
    }
    this.runResponseStages(ctx, res, relay, head);
  }

  /** @internal The upstream call failed before it answered. */
  onUpstreamError(ctx: Context, res: Res, error: GatewayError): void {
    ctx.upstreamEndNs = process.hrtime.bigint();
    this.fail(ctx, res, error);
  }

  /** Appends X-Request-Id, traceparent and the forwarding headers (the copy left them out). */
  private addForwarding(ctx: Context, headers: string[]): void {
    const mode = this.options.forwardedHeaders;
    const incoming = ctx.req.headers;
    headers.push('x-request-id', ctx.id);
    const tp = incoming.traceparent;
    if (typeof tp === 'string' && TRACEPARENT.test(tp)) {
      headers.push('traceparent', tp);
      const state = incoming.tracestate;
      if (typeof state === 'string') headers.push('tracestate', state);
      else if (state !== undefined) for (const s of state) headers.push('tracestate', s);
    } else headers.push('traceparent', newTraceparent());
    if (mode === 'none') return;
    const peer = ctx.peer;
    const trusted = ctx.peerTrusted;
    const rawHost = incoming.host ?? (incoming[':authority'] as string | undefined) ?? ctx.host;
    if (mode !== 'forwarded') {
      const prior = trusted ? incoming['x-forwarded-for'] : undefined;
      headers.push(
        'x-forwarded-for',
        prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}` : peer,
        'x-forwarded-proto',
        ctx.protocol,
        'x-forwarded-host',
        rawHost,
      );
    }
    if (mode === 'forwarded' || mode === 'both') {
      const forNode = peer.includes(':') ? `"[${peer}]"` : peer;
      const element = `for=${forNode};proto=${ctx.protocol};host="${rawHost.replace(/["\\]/g, '')}"`;
      const prior = trusted ? incoming.forwarded : undefined;
      headers.push('forwarded', prior ? `${prior}, ${element}` : element);
    }
  }

  /** @internal */
  writeHead(ctx: Context, res: Res, status: number, headers: Record<string, string | string[]>): void {
    const length = headers['content-length'];
    if (length !== undefined) ctx.bytesOut = Number(length);
    const secure = ctx.protocol === 'https' ? this.options.secureHeaders : undefined;
    if (ctx.req.httpVersionMajor !== 1) {
      for (const name in ctx.responseHeaders) headers[name] = ctx.responseHeaders[name]!;
      if (secure) Object.assign(headers, secure);
      headers['x-request-id'] = ctx.id;
      res.writeHead(status, headers);
      return;
    }
    const skip = this.setByGateway(ctx, secure);
    const list: string[] = [];
    for (const name in headers) {
      if (skip(name)) continue;
      const value = headers[name]!;
      if (typeof value === 'string') list.push(name, value);
      else for (let i = 0; i < value.length; i++) list.push(name, value[i]!);
    }
    this.finishHeadList(ctx, res, status, list, secure);
  }

  /** HTTP/1 streaming answer: the upstream's raw headers straight to a flat list. */
  private writeHeadList(ctx: Context, res: Res, head: UpstreamHead): void {
    const secure = ctx.protocol === 'https' ? this.options.secureHeaders : undefined;
    const list = head.headerList(this.setByGateway(ctx, secure));
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === 'content-length') {
        ctx.bytesOut = Number(list[i + 1]);
        break;
      }
    }
    this.finishHeadList(ctx, res, head.statusCode, list, secure);
  }

  /** Names the gateway sets on an answer (an upstream's own value for them is left out). */
  private setByGateway(ctx: Context, secure: Record<string, string> | undefined): (name: string) => boolean {
    const own = ctx.responseHeaders;
    return secure === undefined
      ? (name) => name === 'x-request-id' || Object.hasOwn(own, name)
      : (name) => name === 'x-request-id' || Object.hasOwn(own, name) || Object.hasOwn(secure, name);
  }

  private finishHeadList(
    ctx: Context,
    res: Res,
    status: number,
    list: string[],
    secure: Record<string, string> | undefined,
  ): void {
    const own = ctx.responseHeaders;
    for (const name in own) list.push(name, own[name]!);
    if (secure) for (const name in secure) list.push(name, secure[name]!);
    list.push('x-request-id', ctx.id);
    // node:http takes a flat [name, value, ...] list as it is (see proxy/headers.ts for why)
    (res as ServerResponse).writeHead(status, list);
  }

  /** Runs response stages, synchronously while they stay synchronous (like the access phase). */
  private runResponseStages(
    ctx: Context,
    res: Res,
    relay: Relay | undefined,
    head: UpstreamHead | undefined,
    local?: GatewayError,
  ): void {
    const rendered = local ? renderProblem(local, ctx.id) : undefined;
    const headers: Record<string, string | string[]> = rendered ? { ...rendered.headers } : head!.headers;
    let replaced: Buffer | undefined = rendered ? Buffer.from(rendered.body) : undefined;
    let read: Promise<Buffer> | undefined;
    // A stage-set body drops Content-Encoding; a body only read keeps its upstream encoding.
    let rewritten = rendered !== undefined;
    const maxBuffer = this.options.maxResponseBufferBytes;
    const contentType = headers['content-type'];
    const ct = Array.isArray(contentType) ? contentType[0] : contentType;
    const response: ResponseContext = {
      status: rendered ? rendered.status : head!.statusCode,
      headers,
      mediaType: ct ? ct.split(';')[0]!.trim().toLowerCase() : undefined,
      local: rendered !== undefined,
      parsed: new Map(),
      read(limit: number) {
        if (replaced) return Promise.resolve(replaced);
        read ??= relay!.read(Math.min(limit, maxBuffer)).then((b) => (replaced = b));
        return read;
      },
      replace(body: Buffer | string) {
        replaced = typeof body === 'string' ? Buffer.from(body) : body;
        rewritten = true;
      },
    };
    const onError = (error: unknown): void => {
      relay?.discard();
      if (local) {
        this.sendLocal(ctx, res, renderProblem(local, ctx.id));
        return;
      }
      this.fail(ctx, res, error, undefined, true);
    };
    const finish = (): void => {
      if (replaced === undefined && relay) {
        // Nobody read the body: stream it.
        this.writeHead(ctx, res, response.status, headers);
        relay.stream();
        return;
      }
      // A body replaced without being read: the upstream's is not wanted.
      relay?.discard();
      const body = replaced ?? Buffer.alloc(0);
      delete headers['transfer-encoding'];
      if (rewritten) delete headers['content-encoding'];
      headers['content-length'] = String(body.length);
      this.writeHead(ctx, res, response.status, headers);
      if (ctx.method === 'HEAD') res.end();
      else res.end(body);
    };
    const stages = ctx.route.response;
    const step = (from: number): void => {
      for (let i = from; i < stages.length; i++) {
        const stage = stages[i]!;
        if (stage.minStatus !== undefined && response.status < stage.minStatus) continue;
        let result: void | Promise<void>;
        try {
          result = stage.run(ctx, response);
        } catch (error) {
          onError(error);
          return;
        }
        if (result !== undefined) {
          result.then(() => step(i + 1), onError);
          return;
        }
      }
      finish();
    };
    step(0);
  }

  private reply(ctx: Context, res: Res, reply: LocalReply): void {
    const headers: Record<string, string | string[]> = { ...reply.headers };
    const body =
      reply.body === undefined
        ? undefined
        : typeof reply.body === 'string'
          ? Buffer.from(reply.body)
          : reply.body;
    if (body) headers['content-length'] = String(body.length);
    this.writeHead(ctx, res, reply.status, headers);
    if (body) res.end(body);
    else res.end();
  }

  /** Turns a thrown value into a problem+json answer; logs internals, never sends them. */
  fail(ctx: Context, res: Res, error: unknown, stage?: string, fromResponsePhase = false): void {
    const gatewayError =
      error instanceof GatewayError ? error : new GatewayError('internal_error', { cause: error });
    ctx.errorCode = gatewayError.code;
    if (gatewayError.reason && ctx.logFields.reason === undefined) ctx.logFields.reason = gatewayError.reason;
    if (stage) this.services.metrics.denials.inc({ stage, code: gatewayError.code });
    if (!(error instanceof GatewayError) || gatewayError.code === 'internal_error') {
      this.services.logger.error(
        { err: error, requestId: ctx.id, route: ctx.route.name, stage },
        'internal error while handling a request',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!fromResponsePhase && gatewayError.status >= ctx.route.responseFrom) {
      this.runResponseStages(ctx, res, undefined, undefined, gatewayError);
      return;
    }
    this.sendLocal(ctx, res, renderProblem(gatewayError, ctx.id));
  }

  private sendLocal(ctx: Context, res: Res, rendered: ReturnType<typeof renderProblem>): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string | string[]> = {
      ...rendered.headers,
      'content-length': String(Buffer.byteLength(rendered.body)),
    };
    this.writeHead(ctx, res, rendered.status, headers);
    if (ctx.method === 'HEAD') res.end();
    else res.end(rendered.body);
    // An unread request body must not poison a keep-alive connection.
    if (!ctx.req.readableEnded && ctx.body.present && !ctx.body.buffered) ctx.req.resume();
  }
}

const overBufferLimit = (): GatewayError =>
  new GatewayError('upstream_bad_response', { reason: 'response_over_buffer_limit' });

const PENDING = 0;
const STREAMING = 1;
const COLLECTING = 2;
const DISCARDING = 3;

/**
 * One request's upstream sink: relays the answer's body to the client with back-pressure, or
 * collects it for a response stage that reads it. Until response stages decide, chunks are
 * queued and the upstream is paused.
 */
class Relay implements UpstreamSink {
  private mode = PENDING;
  private resumeUpstream: (() => void) | undefined;
  private queue: Buffer[] | undefined;
  private size = 0;
  private ended = false;
  private failure: GatewayError | undefined;
  private limit = 0;
  private settle: { resolve(body: Buffer): void; reject(error: GatewayError): void } | undefined;

  constructor(
    private readonly runner: Runner,
    private readonly ctx: Context,
    private readonly res: Res,
  ) {}

  onHead(head: UpstreamHead, resume: () => void): void {
    this.resumeUpstream = resume;
    this.runner.onUpstreamHead(this.ctx, this.res, this, head);
  }

  onData(chunk: Buffer): boolean {
    const mode = this.mode;
    if (mode === STREAMING) {
      const res = this.res;
      if (res.destroyed) return true;
      if ((res as ServerResponse).write(chunk)) return true;
      res.once('drain', this.resumeUpstream!);
      return false;
    }
    if (mode === DISCARDING) return true;
    (this.queue ??= []).push(chunk);
    this.size += chunk.length;
    if (mode !== COLLECTING) return false; // pending: pause until stream() or read()
    if (this.size > this.limit) this.reject(overBufferLimit());
    return true;
  }

  onEnd(): void {
    this.ended = true;
    if (this.mode === STREAMING) this.res.end();
    else if (this.mode === COLLECTING) this.resolve();
  }

  onError(error: GatewayError, afterHead: boolean): void {
    if (!afterHead) {
      this.runner.onUpstreamError(this.ctx, this.res, error);
      return;
    }
    if (this.mode === STREAMING) {
      if (!this.res.destroyed) this.res.destroy();
    } else if (this.mode === COLLECTING) this.reject(error);
    else this.failure = error;
  }

  /** Sends the body to the client (the head has been written): queued chunks first. */
  stream(): void {
    const res = this.res;
    this.mode = STREAMING;
    const queue = this.queue;
    this.queue = undefined;
    let flowing = true;
    if (queue) for (const chunk of queue) flowing = (res as ServerResponse).write(chunk);
    if (this.failure) {
      res.destroy();
      return;
    }
    if (this.ended) {
      res.end();
      return;
    }
    if (flowing) this.resumeUpstream?.();
    else res.once('drain', this.resumeUpstream!);
  }

  /** Reads the whole body (at most `limit` bytes). */
  read(limit: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    this.limit = limit;
    if (this.size > limit) {
      this.discard();
      return Promise.reject(overBufferLimit());
    }
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.mode = COLLECTING;
      if (this.ended) this.resolve();
      else this.resumeUpstream?.();
    });
  }

  /** The body is not wanted: drop it (the exchange drains a little, then cuts the connection). */
  discard(): void {
    if (this.mode === DISCARDING) return;
    this.mode = DISCARDING;
    this.queue = undefined;
    this.ctx.upstreamCall?.abort('discarded');
  }

  private resolve(): void {
    const settle = this.settle;
    if (!settle) return;
    this.settle = undefined;
    const queue = this.queue;
    this.queue = undefined;
    settle.resolve(
      queue === undefined ? Buffer.alloc(0) : queue.length === 1 ? queue[0]! : Buffer.concat(queue),
    );
  }

  private reject(error: GatewayError): void {
    const settle = this.settle;
    this.settle = undefined;
    this.discard();
    settle?.reject(error);
  }
}

function hostOf(headers: IncomingHttpHeaders): string {
  const raw = headers[':authority'] ?? headers.host;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return '';
  let host = value;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.toLowerCase();
}
