import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Identity } from './identity.js';
import type { RequestBody } from './request-body.js';
import type { CompiledRoute } from './route.js';

/**
 * Everything the stages know about one request. Created by the runner after the path has been
 * normalised and a route matched. Stages read it and may set `identity`, `params`, `operation`,
 * the headers to forward and per-stage `state`.
 */
export interface RequestContext {
  readonly id: string;
  /** Start time from `process.hrtime.bigint()`. */
  readonly startNs: bigint;
  readonly req: IncomingMessage | Http2ServerRequest;
  /** Upper-case method as received (method-override stages may replace it). */
  method: string;
  /** The normalised path: what routing matched and what is forwarded (before route rewrite). */
  readonly path: string;
  /** Raw query string without `?` (may be empty). Stages that strip parameters replace it. */
  query: string;
  /** Host name (lower case, without port) the request addressed. */
  readonly host: string;
  /** Client address after trusted-proxy rules. */
  readonly clientIp: string;
  /** `https` when the request arrived over TLS (or via a trusted proxy that says so). */
  readonly protocol: 'http' | 'https';
  /** The TLS socket, when the request arrived over TLS (client certificate, ALPN, ...). */
  readonly tlsSocket: TLSSocket | undefined;
  readonly route: CompiledRoute;
  /** Path template parameters (decoded). */
  params: Record<string, string>;
  /** Set by authentication. */
  identity: Identity | undefined;
  /** Set by OpenAPI matching: the operation this request maps to. */
  operation:
    | {
        readonly operationId?: string;
        readonly method: string;
        readonly pathTemplate: string;
        readonly [k: string]: unknown;
      }
    | undefined;
  /** Lazily read request body; reading is opt-in per stage. */
  readonly body: RequestBody;
  /** Headers to add/replace on the upstream request (lower-case names). */
  readonly upstreamHeaders: Record<string, string>;
  /** Request headers (lower-case names) not to forward upstream, e.g. a consumed credential. */
  readonly dropHeaders: Set<string>;
  /** Response headers added by access stages (rate-limit headers, ...), applied to every answer. */
  readonly responseHeaders: Record<string, string>;
  /** Per-stage scratch space, keyed by stage name. */
  readonly state: Map<string, unknown>;
  /** Log fields added by stages (reasons, decisions); emitted by the access log. Never secrets. */
  readonly logFields: Record<string, unknown>;
  /** The upstream target's origin once it has answered (for logs). */
  readonly upstreamTarget?: string | undefined;
  /** Request header lookup (lower-case name); joins repeated headers with `, `. */
  header(name: string): string | undefined;
}
