import type { JSONSchemaType } from '../pipeline/json-schema.js';
import type { SigningAlg } from '../crypto/signing-keys.js';

/** Top-level `oauthServer:` section: the built-in authorization server (client_credentials). */
export interface OAuthServerConfig {
  /** Issuer identifier and external base URL, e.g. `https://gw.example.com`. */
  readonly issuer: string;
  readonly signingAlg?: SigningAlg;
  readonly tokenTtlSec?: number;
  /** `aud` of issued tokens (RFC 9068); the issuer when unset. */
  readonly audience?: string;
  /** Longest accepted lifetime of a private_key_jwt client assertion. */
  readonly assertionMaxAgeSec?: number;
  /** Bind tokens to the client certificate presented on the token request (RFC 8705). */
  readonly certificateBoundTokens?: boolean;
}

/** `routes[i].oauthServer`: which endpoints this route answers. */
export interface OAuthServerRouteConfig {
  /** Path prefix of the token, revocation and JWKS endpoints (default `/oauth`). */
  readonly basePath?: string;
}

export const OAUTH_DEFAULTS = {
  signingAlg: 'ES256' as SigningAlg,
  tokenTtlSec: 600,
  assertionMaxAgeSec: 300,
  basePath: '/oauth',
  maxBodyBytes: 16_384,
} as const;

export const oauthServerGlobalSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer'],
  description:
    'The built-in OAuth 2.0 authorization server (client_credentials grant). Clients live in the credential store; signing keys in the keyring.',
  properties: {
    issuer: {
      type: 'string',
      pattern: '^https?://[^?#]+$',
      description:
        'Issuer identifier: the external base URL of the gateway (https in production), no query or fragment.',
    },
    signingAlg: {
      enum: ['ES256', 'EdDSA'],
      description: 'Token signing algorithm (default ES256). Changing it takes a restart.',
    },
    tokenTtlSec: {
      type: 'integer',
      minimum: 60,
      maximum: 3600,
      description: 'Access token lifetime (default 600).',
    },
    audience: {
      type: 'string',
      minLength: 1,
      description: '`aud` claim of issued tokens (default: the issuer).',
    },
    assertionMaxAgeSec: {
      type: 'integer',
      minimum: 10,
      maximum: 3600,
      description:
        'Longest lifetime (exp - iat) accepted for private_key_jwt client assertions (default 300).',
    },
    certificateBoundTokens: {
      type: 'boolean',
      description:
        'Add `cnf.x5t#S256` when the client presents a TLS certificate on the token request (RFC 8705).',
    },
  },
};

export const oauthServerRouteSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'Answer the built-in authorization server endpoints on this route: POST {basePath}/token, POST {basePath}/revoke, GET {basePath}/jwks.json and GET /.well-known/oauth-authorization-server. No upstream is called.',
  properties: {
    basePath: {
      type: 'string',
      pattern: '^/[A-Za-z0-9._~/-]*$',
      description: 'Endpoint path prefix (default /oauth).',
    },
  },
};

export function readOAuthServerConfig(
  config: Readonly<Record<string, unknown>>,
): OAuthServerConfig | undefined {
  return config.oauthServer as OAuthServerConfig | undefined;
}
