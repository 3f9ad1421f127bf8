import type { JWK } from 'jose';
import type { JSONSchemaType } from '../pipeline/json-schema.js';
import { claimMappingSchema, type ClaimMappingConfig } from './jwt-claims.js';

/** A static verification key: a public JWK, or a PEM public key / certificate with optional kid and alg. */
export type JwtStaticKeyConfig = JWK | { readonly pem: string; readonly kid?: string; readonly alg?: string };

export interface JwksOptionsConfig {
  readonly ttlSec?: number;
  readonly cooldownSec?: number;
  readonly maxStaleSec?: number;
  readonly timeoutMs?: number;
  readonly maxKeys?: number;
  readonly maxBytes?: number;
}

/** `authn.jwt.issuers.<name>` */
export interface JwtIssuerConfig {
  /** Expected `iss`. For `local: true` defaults to the built-in authorization server's issuer. */
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  readonly algorithms: readonly string[];
  readonly secret?: string;
  readonly keys?: readonly JwtStaticKeyConfig[];
  readonly jwksUri?: string;
  readonly jwks?: JwksOptionsConfig;
  /** Tokens of the built-in authorization server: its keys, its revocation list. */
  readonly local?: boolean;
  readonly clockSkewSec?: number;
  readonly maxAgeSec?: number;
  readonly requiredClaims?: readonly string[];
  readonly typ?: string;
  readonly maxTokenBytes?: number;
  readonly requireCertificateBinding?: boolean;
  readonly claims?: ClaimMappingConfig;
  readonly cache?: { readonly maxEntries?: number; readonly maxTtlSec?: number };
}

export const JWT_DEFAULTS = {
  clockSkewSec: 30,
  maxTokenBytes: 8192,
  jwksTtlSec: 300,
  jwksCooldownSec: 30,
  jwksMaxStaleSec: 86_400,
  jwksTimeoutMs: 3000,
  jwksMaxKeys: 50,
  jwksMaxBytes: 262_144,
  cacheMaxEntries: 10_000,
  cacheMaxTtlSec: 300,
} as const;

export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

const issuerSchema: JSONSchemaType = {
  type: 'object',
  description:
    'One trusted JWT issuer. Exactly one key source: `secret` (HS* only), `keys`, `jwksUri`, or `local: true`.',
  additionalProperties: false,
  required: ['algorithms'],
  properties: {
    issuer: {
      type: 'string',
      minLength: 1,
      description: 'Expected `iss` claim (required unless `local: true`).',
    },
    audience: {
      description: 'Accepted `aud` value(s); the token must name at least one.',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
    },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      description: 'Explicit allow-list. HS* only together with `secret`; `none` is never accepted.',
      items: { enum: [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS] },
    },
    secret: {
      type: 'string',
      minLength: 32,
      description: 'Shared HMAC secret (at least 32 bytes). Use `${secret:...}`.',
    },
    keys: {
      type: 'array',
      minItems: 1,
      description:
        'Static public keys: JWK objects, or `{pem, kid?, alg?}` (SPKI public key or X.509 certificate).',
      items: { type: 'object' },
    },
    jwksUri: { type: 'string', pattern: '^https?://', description: 'JWKS URL (https in production).' },
    jwks: {
      type: 'object',
      additionalProperties: false,
      description: 'JWKS cache settings.',
      properties: {
        ttlSec: { type: 'integer', minimum: 1, description: 'Refresh interval (default 300).' },
        cooldownSec: {
          type: 'integer',
          minimum: 0,
          description: 'Minimum seconds between refetches on unknown kid (default 30).',
        },
        maxStaleSec: {
          type: 'integer',
          minimum: 0,
          description: 'Serve the last good keys this long while refreshes fail (default 86400).',
        },
        timeoutMs: { type: 'integer', minimum: 1, description: 'Fetch deadline (default 3000).' },
        maxKeys: { type: 'integer', minimum: 1, description: 'Refuse key sets with more keys (default 50).' },
        maxBytes: { type: 'integer', minimum: 256, description: 'Refuse larger responses (default 262144).' },
      },
    },
    local: {
      type: 'boolean',
      description: 'Tokens of the built-in authorization server (`oauthServer`): its keys and revocations.',
    },
    clockSkewSec: {
      type: 'integer',
      minimum: 0,
      maximum: 300,
      description: 'Leeway for exp/nbf/iat (default 30).',
    },
    maxAgeSec: {
      type: 'integer',
      minimum: 1,
      description: 'Refuse tokens whose `iat` is older (requires `iat`).',
    },
    requiredClaims: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Claims that must be present.',
    },
    typ: { type: 'string', minLength: 1, description: 'Required `typ` header, e.g. `at+jwt` (RFC 9068).' },
    maxTokenBytes: {
      type: 'integer',
      minimum: 256,
      maximum: 65536,
      description: 'Refuse longer tokens before parsing (default 8192).',
    },
    requireCertificateBinding: {
      type: 'boolean',
      description: 'Refuse tokens without `cnf.x5t#S256` (RFC 8705).',
    },
    claims: claimMappingSchema,
    cache: {
      type: 'object',
      additionalProperties: false,
      description: 'Cache of verified tokens (never outlives exp, the key or a revocation).',
      properties: {
        maxEntries: { type: 'integer', minimum: 0, description: '0 disables (default 10000).' },
        maxTtlSec: {
          type: 'integer',
          minimum: 1,
          description: 'Upper bound of an entry life (default 300).',
        },
      },
    },
  },
};

/** JSON-Schema fragment of `authn.jwt`. */
export const jwtSectionSchema: JSONSchemaType = {
  type: 'object',
  description: 'JWT bearer-token issuers, referenced from routes as `jwt:<name>`.',
  additionalProperties: false,
  properties: {
    issuers: { type: 'object', additionalProperties: issuerSchema, description: 'Issuers by name.' },
  },
};
