import type { JSONSchemaType } from '../pipeline/json-schema.js';

const duration = { type: 'integer', minimum: 0 } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

const tlsSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'TLS settings. TLS 1.2 is the minimum; only AEAD cipher suites with forward secrecy are offered.',
  properties: {
    certificates: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cert', 'key'],
        properties: {
          cert: { type: 'string', description: 'PEM certificate chain file' },
          key: { type: 'string', description: 'PEM private key file' },
          serverNames: {
            type: 'array',
            items: { type: 'string' },
            description:
              'SNI names served with this certificate (exact or *.wildcard); the first certificate is the default',
          },
        },
      },
    },
    devCertificate: {
      type: 'boolean',
      description: 'Generate a self-signed DEVELOPMENT certificate when no certificate is configured',
    },
    minVersion: { enum: ['TLSv1.2', 'TLSv1.3'] },
    ciphers: { type: 'string', description: 'OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are fixed)' },
    http2: { type: 'boolean', description: 'Offer HTTP/2 via ALPN (default true), with HTTP/1.1 fallback' },
    hsts: {
      type: 'object',
      additionalProperties: false,
      required: ['maxAge'],
      properties: {
        maxAge: { type: 'integer', minimum: 0 },
        includeSubDomains: { type: 'boolean' },
        preload: { type: 'boolean' },
      },
    },
    clientAuth: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: { enum: ['none', 'request', 'require'] },
        ca: { type: 'string', description: 'PEM CA bundle that client certificates must chain to' },
        crl: { type: 'string', description: 'PEM certificate revocation list' },
      },
    },
  },
};

export const coreSchema: JSONSchemaType = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://portcullis.dev/schema/config.json',
  title: 'Portcullis gateway configuration',
  type: 'object',
  required: ['version', 'listeners', 'upstreams', 'routes'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Configuration format version' },
    workers: {
      description: 'Worker processes: a number, or "auto" for one per CPU',
      oneOf: [{ type: 'integer', minimum: 1, maximum: 256 }, { const: 'auto' }],
    },
    listeners: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['port'],
        properties: {
          name: { type: 'string' },
          host: { type: 'string', description: 'Address to bind (default 127.0.0.1)' },
          port,
          tls: tlsSchema,
          redirectToHttps: {
            type: 'object',
            additionalProperties: false,
            required: ['port'],
            properties: { port },
            description: 'On a plain-HTTP listener, answer every request with a 308 redirect to HTTPS',
          },
        },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      description: 'The admin listener: metrics, health, readiness and the admin API',
      properties: {
        host: { type: 'string', description: 'Default 127.0.0.1' },
        port,
        token: {
          type: 'string',
          description: 'Admin bearer token (at least 32 characters); use ${env:...} or ${secret:...}',
        },
        tls: tlsSchema,
      },
    },
    logging: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
        accessLog: { type: 'boolean' },
        destination: { type: 'string', description: 'stdout (default), stderr, or a file path' },
      },
    },
    trustedProxies: {
      type: 'array',
      items: { type: 'string' },
      description: 'CIDRs of proxies whose X-Forwarded-For / Forwarded headers are believed',
    },
    forwardedHeaders: {
      enum: ['x-forwarded', 'forwarded', 'both', 'none'],
      description: 'Which forwarding headers the gateway sends upstream (default x-forwarded)',
    },
    paths: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowSemicolons: {
          type: 'boolean',
          description: 'Accept `;` inside path segments (default: refuse)',
        },
        caseInsensitiveRouting: {
          type: 'boolean',
          description: 'Match routes ignoring case (for case-insensitive upstreams)',
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxHeaderBytes: { type: 'integer', minimum: 1024 },
        maxHeaderCount: { type: 'integer', minimum: 8 },
        maxUrlLength: { type: 'integer', minimum: 64 },
        maxBodyBytes: { type: 'integer', minimum: 0 },
        requestTimeoutMs: duration,
        headersTimeoutMs: duration,
        keepAliveTimeoutMs: duration,
        maxConnections: { type: 'integer', minimum: 1 },
        maxConnectionsPerIp: { type: 'integer', minimum: 1 },
        shutdownTimeoutMs: duration,
        http2MaxConcurrentStreams: { type: 'integer', minimum: 1 },
        http2ResetBurst: {
          type: 'integer',
          minimum: 1,
          description: 'HTTP/2 stream resets allowed at once per session before GOAWAY (rapid reset)',
        },
        http2ResetsPerSecond: {
          type: 'integer',
          minimum: 1,
          description: 'Sustained HTTP/2 resets per second per session',
        },
      },
    },
    upstreams: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['targets'],
        properties: {
          targets: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['url'],
              properties: {
                url: {
                  type: 'string',
                  pattern: '^https?://[^/?#]+/?$',
                  description: 'http(s)://host:port of one target',
                },
                weight: { type: 'integer', minimum: 1, maximum: 1000 },
              },
            },
          },
          balance: { enum: ['round_robin', 'least_connections'] },
          connections: { type: 'integer', minimum: 1, description: 'Keep-alive connections per target' },
          timeouts: {
            type: 'object',
            additionalProperties: false,
            properties: { connectMs: duration, headersMs: duration, bodyMs: duration, totalMs: duration },
          },
          retries: {
            type: 'object',
            additionalProperties: false,
            properties: {
              attempts: { type: 'integer', minimum: 0, maximum: 5 },
              budgetPercent: { type: 'number', minimum: 0, maximum: 100 },
              onStatus: { type: 'array', items: { type: 'integer', minimum: 500, maximum: 599 } },
            },
          },
          healthCheck: {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: {
              path: { type: 'string', pattern: '^/' },
              intervalMs: { type: 'integer', minimum: 100 },
              timeoutMs: { type: 'integer', minimum: 10 },
              healthyThreshold: { type: 'integer', minimum: 1 },
              unhealthyThreshold: { type: 'integer', minimum: 1 },
              expectStatus: { type: 'array', items: { type: 'integer' } },
            },
          },
          outlierDetection: {
            type: 'object',
            additionalProperties: false,
            properties: { consecutiveFailures: { type: 'integer', minimum: 1 }, ejectionMs: duration },
          },
          circuitBreaker: {
            type: 'object',
            additionalProperties: false,
            properties: {
              failureThreshold: { type: 'integer', minimum: 1 },
              resetMs: duration,
              halfOpenRequests: { type: 'integer', minimum: 1 },
            },
          },
          tls: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ca: {
                type: 'string',
                description: 'PEM CA bundle to verify the upstream (default: system CAs)',
              },
              cert: { type: 'string', description: 'Client certificate for upstream mTLS' },
              key: { type: 'string' },
              serverName: { type: 'string' },
              verify: { type: 'boolean', description: 'Verify the upstream certificate (default true)' },
            },
          },
        },
      },
    },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'match'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          match: {
            type: 'object',
            additionalProperties: false,
            properties: {
              hosts: { type: 'array', items: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' } },
              methods: {
                type: 'array',
                items: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
              },
              path: { type: 'string', pattern: '^/' },
              pathPrefix: { type: 'string', pattern: '^/' },
            },
            not: { required: ['path', 'pathPrefix'] },
          },
          upstream: {
            type: 'string',
            description: 'Name of an entry in `upstreams` (omit only for routes answered by the gateway)',
          },
          stripPrefix: { type: 'string', pattern: '^/' },
          addPrefix: { type: 'string', pattern: '^/' },
          hostHeader: { type: 'string', description: '`preserve` (default), `upstream`, or a fixed host' },
          public: {
            type: 'boolean',
            description: 'Anonymous access: no authentication or authorization (reported by validate)',
          },
          websocket: {
            description:
              'Proxy WebSocket handshakes (HTTP/1.1 Upgrade: websocket) after the access stages; off by default',
            oneOf: [
              { type: 'boolean' },
              {
                type: 'object',
                additionalProperties: false,
                properties: {
                  allowedOrigins: {
                    type: 'array',
                    minItems: 1,
                    items: {
                      type: 'string',
                      pattern:
                        '^(\\*|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?/?)$',
                    },
                    description:
                      'Origins a browser handshake may come from (`*`: any); default: the Host the handshake addressed',
                  },
                  idleTimeoutSec: { type: 'integer', minimum: 1, maximum: 86400, default: 600 },
                  maxConnections: {
                    type: 'integer',
                    minimum: 1,
                    description: 'Concurrent tunnels on this route per gateway process',
                  },
                },
              },
            ],
          },
        },
      },
    },
  },
};
