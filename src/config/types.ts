/** The validated, interpolated gateway configuration. The JSON Schema lives in `config/schema.ts`. */
export interface GatewayConfig {
  readonly version: 1;
  readonly workers?: number | 'auto';
  readonly listeners: readonly ListenerConfig[];
  readonly admin?: AdminConfig;
  readonly logging?: LoggingConfig;
  readonly trustedProxies?: readonly string[];
  readonly forwardedHeaders?: 'x-forwarded' | 'forwarded' | 'both' | 'none';
  readonly limits?: ServerLimitsConfig;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly routes: readonly RouteConfig[];
  /** Stage-owned top-level sections (`authn`, `store`, `counters`, `secrets`, ...). */
  readonly [section: string]: unknown;
}

export interface ListenerConfig {
  readonly name?: string;
  readonly host?: string;
  readonly port: number;
  readonly tls?: ListenerTlsConfig;
  /** On a plain-HTTP listener: redirect every request to this HTTPS port (308). */
  readonly redirectToHttps?: { readonly port: number };
}

export interface ListenerTlsConfig {
  /** Certificate/key pairs; the first is the default, the others are chosen by SNI. */
  readonly certificates?: readonly {
    readonly cert: string;
    readonly key: string;
    readonly serverNames?: readonly string[];
  }[];
  /** Generate a self-signed development certificate when no certificate is configured. */
  readonly devCertificate?: boolean;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
  readonly http2?: boolean;
  readonly hsts?: {
    readonly maxAge: number;
    readonly includeSubDomains?: boolean;
    readonly preload?: boolean;
  };
  readonly clientAuth?: {
    readonly mode: 'none' | 'request' | 'require';
    readonly ca?: string;
    readonly crl?: string;
  };
}

export interface AdminConfig {
  readonly host?: string;
  readonly port?: number;
  readonly token?: string;
  readonly tls?: ListenerTlsConfig;
}

export interface LoggingConfig {
  readonly level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly accessLog?: boolean;
  /** `stdout` (default), `stderr`, or a file path. */
  readonly destination?: string;
}

export interface ServerLimitsConfig {
  readonly maxHeaderBytes?: number;
  readonly maxHeaderCount?: number;
  readonly maxUrlLength?: number;
  readonly maxBodyBytes?: number;
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  readonly shutdownTimeoutMs?: number;
  readonly http2MaxConcurrentStreams?: number;
  readonly http2ResetBurst?: number;
  readonly http2ResetsPerSecond?: number;
}

export interface UpstreamTargetConfig {
  readonly url: string;
  readonly weight?: number;
}

export interface UpstreamConfig {
  readonly targets: readonly UpstreamTargetConfig[];
  readonly balance?: 'round_robin' | 'least_connections';
  readonly connections?: number;
  readonly timeouts?: {
    readonly connectMs?: number;
    readonly headersMs?: number;
    readonly bodyMs?: number;
    readonly totalMs?: number;
  };
  readonly retries?: {
    readonly attempts?: number;
    readonly budgetPercent?: number;
    readonly onStatus?: readonly number[];
  };
  readonly healthCheck?: {
    readonly path: string;
    readonly intervalMs?: number;
    readonly timeoutMs?: number;
    readonly healthyThreshold?: number;
    readonly unhealthyThreshold?: number;
    readonly expectStatus?: readonly number[];
  };
  readonly outlierDetection?: { readonly consecutiveFailures?: number; readonly ejectionMs?: number };
  readonly circuitBreaker?: {
    readonly failureThreshold?: number;
    readonly resetMs?: number;
    readonly halfOpenRequests?: number;
  };
  readonly tls?: {
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly serverName?: string;
    readonly verify?: boolean;
  };
}

export interface RouteMatchConfig {
  readonly hosts?: readonly string[];
  readonly methods?: readonly string[];
  /** Exact path or template with `{param}` segments. */
  readonly path?: string;
  /** Segment-aware prefix: `/api` matches `/api` and `/api/...`, never `/apix`. */
  readonly pathPrefix?: string;
}

export interface WebSocketRouteConfig {
  /** Origins a browser handshake may come from (`https://app.example.com`; `*`: any). Default: same origin. */
  readonly allowedOrigins?: readonly string[];
  /** A tunnel with no traffic either way for this long is closed (default 600). */
  readonly idleTimeoutSec?: number;
  /** Concurrent tunnels on this route per gateway process (default: no cap besides the listener's). */
  readonly maxConnections?: number;
}

export interface RouteConfig {
  readonly name: string;
  readonly match: RouteMatchConfig;
  readonly upstream: string;
  readonly stripPrefix?: string;
  readonly addPrefix?: string;
  readonly hostHeader?: 'preserve' | 'upstream' | string;
  /** Opt out of authentication and authorization. Reported by `portcullis validate`. */
  readonly public?: boolean;
  /** Proxy WebSocket handshakes (HTTP/1.1 `Upgrade: websocket`) on this route; off by default. */
  readonly websocket?: boolean | WebSocketRouteConfig;
  /** Stage-owned sections (`authentication`, `authorization`, `rateLimits`, `openapi`, ...). */
  readonly [section: string]: unknown;
}
