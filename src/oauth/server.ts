import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../errors/gateway-error.js';
import { StoreError } from '../store/errors.js';
import type { BruteForceGuard } from '../authn/brute-force.js';
import type { Logger } from '../observe/logger.js';
import { presentedThumbprint } from '../authn/jwt-verifier.js';
import type { RequestContext } from '../pipeline/context.js';
import type { LocalReply } from '../pipeline/stage.js';
import { ASSERTION_ALGORITHMS, authenticateClient, type ClientAuthOptions } from './client-auth.js';
import { OAUTH_DEFAULTS, type OAuthServerConfig } from './config.js';
import { parseForm, parseScope } from './form.js';
import { jsonReply, OAuthError, oauthErrorReply } from './oauth-error.js';
import type { OAuthRuntime } from './runtime.js';
import { issueAccessToken } from './token-issuer.js';

export interface OAuthServerOptions {
  readonly config: OAuthServerConfig;
  readonly basePath: string;
  readonly realm: string;
  readonly runtime: OAuthRuntime;
  /** Called with the outcome of each token/revocation request (metrics, logs). */
  readonly onOutcome?: (endpoint: 'token' | 'revoke', outcome: string) => void;
  /** Audit log (token issued, token revoked, refused requests). */
  readonly audit?: Pick<Logger, 'info' | 'warn'>;
  /** Failed client authentications count against the caller's address (shared with authn). */
  readonly guard?: BruteForceGuard;
  readonly now?: () => number;
}

/** Joins an issuer URL and a path without doubling slashes. */
function endpoint(issuer: string, path: string): string {
  return issuer.replace(/\/+$/, '') + path;
}

/** RFC 8414 §3: the well-known segment goes between the host and the issuer's path. */
export function metadataPath(issuer: string): string {
  const { pathname } = new URL(issuer);
  return `/.well-known/oauth-authorization-server${pathname === '/' ? '' : pathname.replace(/\/+$/, '')}`;
}

/**
 * The built-in authorization server: token (client_credentials), revocation, JWKS and metadata
 * endpoints, answered as local replies. Token and revocation errors use RFC 6749 §5.2 JSON.
 */
export class OAuthServer {
  readonly tokenPath: string;
  readonly revokePath: string;
  readonly jwksPath: string;
  readonly metadataPath: string;
  readonly #metadata: string;
  readonly #clientAuth: ClientAuthOptions;
  readonly #now: () => number;

  constructor(private readonly options: OAuthServerOptions) {
    const base = options.basePath.replace(/\/+$/, '');
    this.tokenPath = `${base}/token`;
    this.revokePath = `${base}/revoke`;
    this.jwksPath = `${base}/jwks.json`;
    this.metadataPath = metadataPath(options.config.issuer);
    this.#now = options.now ?? Date.now;
    const { issuer } = options.config;
    const tokenEndpoint = endpoint(issuer, this.tokenPath);
    const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
    this.#metadata = JSON.stringify({
      issuer,
      token_endpoint: tokenEndpoint,
      jwks_uri: endpoint(issuer, this.jwksPath),
      revocation_endpoint: endpoint(issuer, this.revokePath),
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: authMethods,
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      revocation_endpoint_auth_methods_supported: authMethods,
      revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      tls_client_certificate_bound_access_tokens: options.config.certificateBoundTokens === true,
    });
    this.#clientAuth = {
      audiences: [tokenEndpoint, issuer],
      assertionMaxAgeSec: options.config.assertionMaxAgeSec ?? OAUTH_DEFAULTS.assertionMaxAgeSec,
      now: this.#now,
    };
  }

  async handle(ctx: RequestContext): Promise<LocalReply> {
    try {
      return await this.#route(ctx);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      throw new GatewayError('store_unavailable', {
        reason: `oauth_store_${error.code}`,
        cause: error,
        headers: { 'retry-after': '5' },
      });
    }
  }

  #route(ctx: RequestContext): Promise<LocalReply> {
    switch (ctx.path) {
      case this.tokenPath:
        return this.#form(ctx, 'token', (params) => this.#token(ctx, params));
      case this.revokePath:
        return this.#form(ctx, 'revoke', (params) => this.#revoke(ctx, params));
      case this.jwksPath:
        this.#only(ctx, 'GET');
        return this.#jwks();
      case this.metadataPath:
        this.#only(ctx, 'GET');
        return Promise.resolve({
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
          body: this.#metadata,
        });
      default:
        throw new GatewayError('not_found', { reason: 'oauth_unknown_endpoint' });
    }
  }

  #only(ctx: RequestContext, method: 'GET' | 'POST'): void {
    const allowed = method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
    if (!allowed.includes(ctx.method)) {
      throw new GatewayError('method_not_allowed', {
        headers: { allow: allowed.join(', ') },
        reason: 'oauth_method',
      });
    }
  }

  async #form(
    ctx: RequestContext,
    name: 'token' | 'revoke',
    handler: (params: Map<string, string>) => Promise<LocalReply>,
  ): Promise<LocalReply> {
    this.#only(ctx, 'POST');
    const { guard } = this.options;
    const blockedSec = guard?.blockedSeconds('ip', ctx.clientIp) ?? 0;
    if (blockedSec > 0) {
      throw new GatewayError('auth_blocked', {
        headers: { 'retry-after': String(blockedSec) },
        reason: 'oauth_blocked_ip',
      });
    }
    try {
      if (ctx.body.mediaType !== 'application/x-www-form-urlencoded') {
        throw new OAuthError(
          'invalid_request',
          'oauth_content_type',
          'use application/x-www-form-urlencoded',
        );
      }
      if (ctx.query !== '')
        throw new OAuthError('invalid_request', 'oauth_query_parameters', 'parameters belong in the body');
      const params = parseForm(await ctx.body.read(OAUTH_DEFAULTS.maxBodyBytes));
      const reply = await handler(params);
      this.options.onOutcome?.(name, 'ok');
      this.options.audit?.info(
        {
          event: name === 'token' ? 'oauth_token_issued' : 'oauth_token_revoked',
          requestId: ctx.id,
          clientIp: ctx.clientIp,
          clientId: ctx.logFields.oauthClientId,
          jti: name === 'token' ? ctx.logFields.oauthJti : ctx.logFields.oauthRevokedJti,
        },
        name === 'token' ? 'access token issued' : 'revocation request',
      );
      return reply;
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      ctx.logFields.oauthError = error.reason;
      this.options.onOutcome?.(name, error.code);
      this.options.audit?.warn(
        {
          event: 'oauth_request_refused',
          endpoint: name,
          requestId: ctx.id,
          clientIp: ctx.clientIp,
          clientId: ctx.logFields.oauthClientId,
          error: error.code,
          reason: error.reason,
        },
        'authorization server request refused',
      );
      if (error.code === 'invalid_client' && guard !== undefined) {
        const verdict = await guard.countFailure('ip', ctx.clientIp);
        if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      }
      return oauthErrorReply(error, this.options.realm);
    }
  }

  async #token(ctx: RequestContext, params: Map<string, string>): Promise<LocalReply> {
    const grantType = params.get('grant_type');
    if (grantType === undefined)
      throw new OAuthError('invalid_request', 'oauth_grant_type_missing', 'grant_type is required');
    const { runtime, config } = this.options;
    const { client, consumer } = await authenticateClient(ctx, params, runtime, this.#clientAuth);
    ctx.logFields.oauthClientId = client.clientId;
    if (grantType !== 'client_credentials')
      throw new OAuthError('unsupported_grant_type', 'oauth_grant_type_unsupported');
    const requested = parseScope(params.get('scope'));
    const allowed = new Set(client.allowedScopes);
    if (requested !== undefined && requested.some((scope) => !allowed.has(scope))) {
      throw new OAuthError(
        'invalid_scope',
        'oauth_scope_not_allowed',
        'a requested scope is not allowed for this client',
      );
    }
    const scopes = requested ?? [...client.allowedScopes];
    const thumbprint = config.certificateBoundTokens === true ? presentedThumbprint(ctx) : undefined;
    const token = await issueAccessToken(
      runtime.signingKeys,
      {
        issuer: config.issuer,
        ttlSec: config.tokenTtlSec ?? OAUTH_DEFAULTS.tokenTtlSec,
        ...(config.audience === undefined ? {} : { audience: config.audience }),
      },
      client,
      consumer,
      scopes,
      thumbprint,
      this.#now(),
    );
    ctx.logFields.oauthJti = token.jti;
    // a key created just now (first token, rotation) must be verifiable here at once
    if (!runtime.localKeys.keys().some((key) => key.kid === token.kid)) await runtime.localKeys.reload();
    return jsonReply(200, {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: token.expiresIn,
      scope: token.scopes.join(' '),
    });
  }

  async #revoke(ctx: RequestContext, params: Map<string, string>): Promise<LocalReply> {
    const { runtime, config } = this.options;
    const token = params.get('token');
    if (token === undefined)
      throw new OAuthError('invalid_request', 'oauth_token_missing', 'token is required');
    const { client } = await authenticateClient(ctx, params, runtime, this.#clientAuth);
    ctx.logFields.oauthClientId = client.clientId;
    const hint = params.get('token_type_hint');
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new OAuthError('unsupported_token_type', 'oauth_token_type_hint');
    }
    // RFC 7009 §2.2: an invalid, unknown or expired token is answered 200 like a revoked one
    if (token.length > 8192) return jsonReply(200, {});
    let payload;
    try {
      const keys = createLocalJWKSet((await runtime.signingKeys.jwks(this.#now())) as { keys: JWK[] });
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        algorithms: ['ES256', 'EdDSA', 'Ed25519'],
        typ: 'at+jwt',
        currentDate: new Date(this.#now()),
      }));
    } catch {
      return jsonReply(200, {});
    }
    if (payload.client_id !== client.clientId) {
      throw new OAuthError(
        'unauthorized_client',
        'oauth_revoke_foreign_token',
        'the token was not issued to this client',
      );
    }
    if (typeof payload.jti === 'string' && typeof payload.exp === 'number') {
      await runtime.store.revokeToken(payload.jti, payload.exp * 1000);
      runtime.revocation.remember(payload.jti);
      ctx.logFields.oauthRevokedJti = payload.jti;
    }
    return jsonReply(200, {});
  }

  #jwks(): Promise<LocalReply> {
    return this.options.runtime.signingKeys.jwks(this.#now()).then((jwks) => ({
      status: 200,
      headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' },
      body: JSON.stringify(jwks),
    }));
  }
}
