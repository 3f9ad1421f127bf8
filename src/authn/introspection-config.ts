import type { JSONSchemaType } from '../pipeline/json-schema.js';
import { claimMappingSchema, type ClaimMappingConfig } from './jwt-claims.js';

/** `authn.introspection.servers.<name>` */
export interface IntrospectionServerConfig {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** How the gateway authenticates to the server: HTTP Basic (default) or form fields. */
  readonly clientAuth?: 'client_secret_basic' | 'client_secret_post';
  readonly timeoutMs?: number;
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  readonly maxTokenBytes?: number;
  readonly maxResponseBytes?: number;
  readonly cache?: {
    readonly maxEntries?: number;
    readonly maxTtlSec?: number;
    readonly negativeTtlSec?: number;
  };
  readonly claims?: ClaimMappingConfig;
}

export const INTROSPECTION_DEFAULTS = {
  timeoutMs: 2000,
  maxTokenBytes: 8192,
  maxResponseBytes: 65_536,
  cacheMaxEntries: 10_000,
  cacheMaxTtlSec: 60,
  negativeTtlSec: 10,
} as const;

const serverSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'clientId', 'clientSecret'],
  description:
    'An RFC 7662 token introspection endpoint. Fails closed (503 authn_unavailable) when it cannot be reached.',
  properties: {
    url: { type: 'string', pattern: '^https?://', description: 'Introspection endpoint URL.' },
    clientId: {
      type: 'string',
      minLength: 1,
      description: 'The gateway\u2019s client id at the authorization server.',
    },
    clientSecret: {
      type: 'string',
      minLength: 1,
      description: 'The gateway\u2019s client secret (use `${secret:...}`).',
    },
    clientAuth: {
      enum: ['client_secret_basic', 'client_secret_post'],
      description: 'How the gateway authenticates to the server (default client_secret_basic).',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 60_000,
      description: 'Deadline per call (default 2000).',
    },
    issuer: { type: 'string', minLength: 1, description: 'When set, the response `iss` must equal it.' },
    audience: {
      description: 'When set, the response `aud` must name one of these.',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
    },
    maxTokenBytes: {
      type: 'integer',
      minimum: 16,
      maximum: 65_536,
      description: 'Longer tokens are refused unsent (default 8192).',
    },
    maxResponseBytes: {
      type: 'integer',
      minimum: 256,
      description: 'Larger responses count as a failure (default 65536).',
    },
    cache: {
      type: 'object',
      additionalProperties: false,
      description: 'Response cache keyed by the SHA-256 of the token.',
      properties: {
        maxEntries: { type: 'integer', minimum: 0, description: '0 disables (default 10000).' },
        maxTtlSec: {
          type: 'integer',
          minimum: 1,
          description: 'Active answers are kept at most this long and never past `exp` (default 60).',
        },
        negativeTtlSec: {
          type: 'integer',
          minimum: 0,
          description: 'Inactive answers are kept this long (default 10).',
        },
      },
    },
    claims: claimMappingSchema,
  },
};

/** JSON-Schema fragment of `authn.introspection`. */
export const introspectionSectionSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description: 'OAuth 2.0 token introspection servers, referenced from routes as `introspection:<name>`.',
  properties: {
    servers: { type: 'object', additionalProperties: serverSchema, description: 'Servers by name.' },
  },
};
