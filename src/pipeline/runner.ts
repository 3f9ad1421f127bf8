import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors/gateway-error.js';
import { renderProblem } from '../errors/render.js';
import { normalizeTarget, type NormalizeOptions } from '../http/normalize-path.js';
import { normalizeAddress, type TrustedProxies } from '../proxy/client-address.js';
import { UpstreamAbort } from '../proxy/abort.js';
import { endToEndRequestHeaders, endToEndResponseHeaders } from '../proxy/headers.js';
import type { UpstreamResponse } from '../proxy/upstream.js';
import type { RequestContext } from './context.js';
import type { Identity } from './identity.js';
import { LazyRequestBody, readAll } from './lazy-body.js';
import type { ResponseContext } from './response.js';
import type { CompiledRoute } from './route.js';
import type { RouteTable } from './route-table.js';
import type { Services } from './services.js';
import type { LocalReply, ResponseSummary, StageResult } from './stage.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const EMPTY_DROP: ReadonlySet<string> = new Set();

class Context implements RequestContext {
  method: string;
  query: string;
  params: Record<string, string> = {};
  identity: Identity | undefined = undefined;
  operation: RequestContext['operation'] = undefined;
  readonly upstreamHeaders: Record<string, string> = {};
  private drop: Set<string> | undefined;
  get dropHeaders(): Set<string> {
    return (this.drop ??= new Set());
  }
  /** The headers to drop, without allocating a set when no stage asked for one. */
  get droppedHeaders(): ReadonlySet<string> {
    return this.drop ?? EMPTY_DROP;
  }
  readonly responseHeaders: Record<string, string> = {};
  private scratch: Map<string, unknown> | undefined;
  get state(): Map<string, unknown> {
    return (this.scratch ??= new Map());
  }
  readonly logFields: Record<string, unknown> = {};
  upstreamStartNs = 0n;
  upstreamEndNs = 0n;
  upstreamTarget: string | undefined;
  errorCode: string | undefined;
  bytesOut = 0;
  /** The socket peer address (normalised), before trusted-proxy rules. */
  peer = '';
  /** Set while an upstream call is in flight; fired when the client goes away. */
  upstreamAbort: UpstreamAbort | undefined;

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

  constructor(
    table: RouteTable,
    private readonly services: Services,
    private readonly options: RunnerOptions,
  ) {
    this.table = table;
  }

  readonly handle = (req: Req, res: Res): void => {
    const startNs = process.hrtime.bigint();
    const metrics = this.services.metrics;
    metrics.inFlight.inc();
    let finished = false;
    const table = this.table;
    const socket = req.socket;
    const peer = normalizeAddress(socket.remoteAddress);
    const headers = req.headers;
    const clientIp = this.options.trustedProxies.clientAddress(peer, headers['x-forwarded-for']);
    const encrypted = (socket as TLSSocket).encrypted === true;
    const protocol: 'http' | 'https' =
      encrypted || (this.options.trustedProxies.trusts(peer) && headers['x-forwarded-proto'] === 'https')
        ? 'https'
        : 'http';
    const incomingId = headers['x-request-id'];
    const id = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();

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
        ...(c.errorCode === undefined ? {} : { errorCode: c.errorCode }),
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
    res.once('close', () => {
      const aborted = !res.writableFinished;
      if (aborted) ctx?.upstreamAbort?.abort('client_closed');
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
    void this.proxy(ctx, res);
  }

  private async proxy(ctx: Context, res: Res): Promise<void> {
    // The client may have gone while an asynchronous stage ran: send nothing upstream.
    if (res.destroyed) return;
    const upstream = ctx.route.upstream;
    if (!upstream) {
      this.fail(ctx, res, new GatewayError('not_found', { reason: 'route_without_upstream' }));
      return;
    }
    const req = ctx.req;
    const headers = endToEndRequestHeaders(req.headers, ctx.droppedHeaders);
    const hostHeader = ctx.route.hostHeader;
    headers.host =
      hostHeader === 'preserve'
        ? (req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? upstream.hostHeader)
        : hostHeader === 'upstream'
          ? upstream.hostHeader
          : hostHeader.value;
    this.addForwarding(ctx, headers);
    for (const name in ctx.upstreamHeaders) headers[name] = ctx.upstreamHeaders[name]!;
    const body = ctx.body.forwardable();
    if (Buffer.isBuffer(body)) {
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
    } else if (body === undefined && ctx.body.buffered) {
      delete headers['content-length'];
    }
    const abort = (ctx.upstreamAbort = new UpstreamAbort());
    const path = ctx.route.rewritePath(ctx.path) + (ctx.query ? '?' + ctx.query : '');
    ctx.upstreamStartNs = process.hrtime.bigint();
    let upstreamResponse: UpstreamResponse;
    try {
      upstreamResponse = await upstream.send({
        method: ctx.method,
        path,
        headers,
        body,
        signal: abort,
      });
    } catch (error) {
      ctx.upstreamEndNs = process.hrtime.bigint();
      if (abort.reason === 'client_closed') return;
      this.fail(ctx, res, error);
      return;
    }
    ctx.upstreamEndNs = process.hrtime.bigint();
    ctx.upstreamTarget = upstreamResponse.target;
    if (ctx.route.response.length === 0) {
      this.stream(ctx, res, upstreamResponse);
      return;
    }
    this.runResponseStages(ctx, res, upstreamResponse);
  }

  private addForwarding(ctx: Context, headers: Record<string, string | string[]>): void {
    const mode = this.options.forwardedHeaders;
    headers['x-request-id'] = ctx.id;
    const tp = ctx.req.headers.traceparent;
    if (typeof tp === 'string' && TRACEPARENT.test(tp)) headers.traceparent = tp;
    else {
      delete headers.traceparent;
      delete headers.tracestate;
      // randomUUID draws from a cached entropy pool: far cheaper than randomBytes per request.
      const trace = randomUUID().replaceAll('-', '');
      headers.traceparent = `00-${trace}-${randomUUID().slice(0, 8)}${trace.slice(0, 8)}-01`;
    }
    const peer = ctx.peer;
    const trusted = this.options.trustedProxies.trusts(peer);
    if (!trusted) {
      delete headers['x-forwarded-for'];
      delete headers['x-forwarded-proto'];
      delete headers['x-forwarded-host'];
      delete headers['x-forwarded-port'];
      delete headers.forwarded;
      delete headers['x-real-ip'];
    }
    if (mode === 'none') return;
    if (mode === 'x-forwarded' || mode === 'both') {
      const prior = trusted ? ctx.req.headers['x-forwarded-for'] : undefined;
      headers['x-forwarded-for'] = prior
        ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}`
        : peer;
      headers['x-forwarded-proto'] = ctx.protocol;
      const rawHost =
        ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined) ?? ctx.host;
      headers['x-forwarded-host'] = rawHost;
    }
    if (mode === 'forwarded' || mode === 'both') {
      const forNode = peer.includes(':') ? `"[${peer}]"` : peer;
      const rawHost =
        ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined) ?? ctx.host;
      const element = `for=${forNode};proto=${ctx.protocol};host="${rawHost.replace(/["\\]/g, '')}"`;
      const prior = trusted ? ctx.req.headers.forwarded : undefined;
      headers.forwarded = prior ? `${prior}, ${element}` : element;
    }
  }

  private writeHead(
    ctx: Context,
    res: Res,
    status: number,
    headers: Record<string, string | string[]>,
  ): void {
    for (const name in ctx.responseHeaders) headers[name] = ctx.responseHeaders[name]!;
    if (this.options.secureHeaders && ctx.protocol === 'https')
      Object.assign(headers, this.options.secureHeaders);
    headers['x-request-id'] = ctx.id;
    const length = headers['content-length'];
    if (length !== undefined) ctx.bytesOut = Number(length);
    res.writeHead(status, headers);
  }

  private stream(ctx: Context, res: Res, upstream: UpstreamResponse): void {
    const headers = endToEndResponseHeaders(upstream.headers);
    this.writeHead(ctx, res, upstream.statusCode, headers);
    pipeBody(upstream, res);
  }

  /** Runs response stages, synchronously while they stay synchronous (like the access phase). */
  private runResponseStages(
    ctx: Context,
    res: Res,
    upstream: UpstreamResponse | undefined,
    local?: GatewayError,
  ): void {
    const rendered = local ? renderProblem(local, ctx.id) : undefined;
    const headers: Record<string, string | string[]> = rendered
      ? { ...rendered.headers }
      : endToEndResponseHeaders(upstream!.headers);
    let replaced: Buffer | undefined = rendered ? Buffer.from(rendered.body) : undefined;
    let read: Promise<Buffer> | undefined;
    // A stage-set body drops Content-Encoding; a body only read keeps its upstream encoding.
    let rewritten = rendered !== undefined;
    let readFailed = false;
    const maxBuffer = this.options.maxResponseBufferBytes;
    const contentType = headers['content-type'];
    const ct = Array.isArray(contentType) ? contentType[0] : contentType;
    const response: ResponseContext = {
      status: rendered ? rendered.status : upstream!.statusCode,
      headers,
      mediaType: ct ? ct.split(';')[0]!.trim().toLowerCase() : undefined,
      local: rendered !== undefined,
      parsed: new Map(),
      read(limit: number) {
        if (replaced) return Promise.resolve(replaced);
        read ??= readAll(
          upstream!.body,
          Math.min(limit, maxBuffer),
          () => new GatewayError('upstream_bad_response', { reason: 'response_over_buffer_limit' }),
        ).then(
          (b) => (replaced = b),
          (error: unknown) => {
            readFailed = true;
            throw error;
          },
        );
        return read;
      },
      replace(body: Buffer | string) {
        replaced = typeof body === 'string' ? Buffer.from(body) : body;
        rewritten = true;
      },
    };
    const onError = (error: unknown): void => {
      if (upstream) {
        discard(upstream.body);
        // A stage refusing a complete answer is not an upstream failure (5xx count by status).
        upstream.done(!readFailed);
      }
      if (local) {
        this.sendLocal(ctx, res, renderProblem(local, ctx.id));
        return;
      }
      this.fail(ctx, res, error, undefined, true);
    };
    const finish = (): void => {
      if (replaced === undefined && upstream) {
        // Nobody read the body: stream it.
        this.writeHead(ctx, res, response.status, headers);
        pipeBody(upstream, res);
        return;
      }
      upstream?.done(true);
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
        let result: void | Promise<void>;
        try {
          result = stages[i]!.run(ctx, response);
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
    if (!fromResponsePhase && ctx.route.response.length > 0) {
      this.runResponseStages(ctx, res, undefined, gatewayError);
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

/**
 * Streams an upstream body to the client with back-pressure. Cheaper than stream.pipeline,
 * which allocates an AbortController (and a DOMException when it ends) per call.
 */
function pipeBody(upstream: UpstreamResponse, res: Res): void {
  const body = upstream.body;
  let settled = false;
  const settle = (ok: boolean) => {
    if (settled) return;
    settled = true;
    upstream.done(ok);
  };
  body.once('error', () => {
    settle(false);
    if (!res.destroyed) res.destroy();
  });
  res.once('close', () => {
    if (res.writableFinished) settle(true);
    else {
      settle(false);
      discard(body);
    }
  });
  body.pipe(res as NodeJS.WritableStream);
}

/** Abandons an upstream body without an unhandled 'error' event. */
function discard(body: UpstreamResponse['body']): void {
  body.on('error', () => undefined);
  body.destroy();
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
