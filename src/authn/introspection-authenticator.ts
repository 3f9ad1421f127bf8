import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Counter } from 'prom-client';
import { GatewayError } from '../errors/gateway-error.js';
import type { BuildContext } from '../pipeline/build-context.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure, type Authenticator, type AuthenticatorFactory } from './authenticator.js';
import { introspect, type IntrospectionClientOptions } from './introspection-client.js';
import {
  INTROSPECTION_DEFAULTS,
  introspectionSectionSchema,
  type IntrospectionServerConfig,
} from './introspection-config.js';
import { readBearerToken } from './jwt-bearer.js';
import { compileClaimMapping, identityFromClaims, type CompiledClaimMapping } from './jwt-claims.js';
import { presentedThumbprint, sameThumbprint } from './jwt-verifier.js';

/** A cached introspection answer: an identity, or the reason the token is not acceptable. */
type Verdict =
  | {
      readonly ok: true;
      readonly identity: Identity;
      readonly thumbprint: string | undefined;
      readonly validUntil: number;
    }
  | { readonly ok: false; readonly reason: string };

export interface IntrospectionAuthenticatorOptions {
  readonly method: string;
  readonly realm: string;
  readonly client: IntrospectionClientOptions;
  readonly issuer?: string;
  readonly audience?: readonly string[];
  readonly maxTokenBytes: number;
  readonly cacheMaxEntries: number;
  readonly cacheMaxTtlMs: number;
  readonly negativeTtlMs: number;
  readonly claims: CompiledClaimMapping;
  /** Used when `claims.subject` is the default and the answer has no `sub` (client_credentials tokens). */
  readonly fallbackClaims?: CompiledClaimMapping;
  readonly call?: typeof introspect;
  /** Called after each call to the server (metrics): `active`, `inactive` or `error`. */
  readonly onCall?: (outcome: 'active' | 'inactive' | 'error') => void;
  readonly now?: () => number;
}

const CLOCK_SKEW_MS = 30_000;

/**
 * Opaque (or any) bearer tokens checked at an RFC 7662 endpoint. Answers are cached by the
 * SHA-256 of the token, never longer than the token lives nor `maxTtl`; inactive answers for
 * `negativeTtl`. An unreachable server refuses the request (503 authn_unavailable): fail closed.
 */
export function createIntrospectionAuthenticator(options: IntrospectionAuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const call = options.call ?? introspect;
  const cache =
    options.cacheMaxEntries > 0
      ? new LRUCache<string, Verdict>({ max: options.cacheMaxEntries, ttlAutopurge: false })
      : undefined;
  const inflight = new Map<string, Promise<Verdict>>();

  function judge(
    answer: Record<string, unknown>,
    tokenId: string,
    at: number,
  ): { verdict: Verdict; ttl: number } {
    const inactive = (reason: string) => ({
      verdict: { ok: false, reason } as const,
      ttl: options.negativeTtlMs,
    });
    if (answer.active !== true) return inactive('introspection_inactive');
    const exp = typeof answer.exp === 'number' ? answer.exp * 1000 : undefined;
    if (exp !== undefined && exp <= at) return inactive('introspection_expired');
    if (typeof answer.nbf === 'number' && answer.nbf * 1000 > at + CLOCK_SKEW_MS)
      return inactive('introspection_not_yet_valid');
    if (options.issuer !== undefined && answer.iss !== options.issuer)
      return inactive('introspection_wrong_issuer');
    if (options.audience !== undefined) {
      const aud = typeof answer.aud === 'string' ? [answer.aud] : Array.isArray(answer.aud) ? answer.aud : [];
      if (!aud.some((value) => typeof value === 'string' && options.audience?.includes(value))) {
        return inactive('introspection_wrong_audience');
      }
    }
    const cnf = answer.cnf as Record<string, unknown> | undefined;
    const thumbprint = cnf !== null && typeof cnf === 'object' ? cnf['x5t#S256'] : undefined;
    if (thumbprint !== undefined && typeof thumbprint !== 'string')
      return inactive('introspection_cnf_malformed');
    const jti = typeof answer.jti === 'string' ? answer.jti : undefined;
    const base = {
      method: 'introspection',
      credentialId: jti ?? tokenId,
      ...(typeof answer.iss === 'string' ? { issuer: answer.iss } : {}),
      ...(exp === undefined ? {} : { expiresAt: exp }),
    };
    const identity =
      identityFromClaims(answer, options.claims, base) ??
      (options.fallbackClaims === undefined
        ? undefined
        : identityFromClaims(answer, options.fallbackClaims, base));
    if (identity === undefined) return inactive('introspection_missing_subject');
    const validUntil = Math.min(exp ?? Number.POSITIVE_INFINITY, at + options.cacheMaxTtlMs);
    return { verdict: { ok: true, identity, thumbprint, validUntil }, ttl: validUntil - at };
  }

  async function lookUp(token: string, key: string): Promise<Verdict> {
    let answer: Record<string, unknown>;
    try {
      answer = await call(token, options.client);
    } catch (error) {
      options.onCall?.('error');
      throw new GatewayError('authn_unavailable', {
        reason: 'introspection_unavailable',
        cause: error,
        headers: { 'retry-after': '5' },
      });
    }
    const at = now();
    const { verdict, ttl } = judge(answer, key.slice(0, 16), at);
    options.onCall?.(verdict.ok ? 'active' : 'inactive');
    if (cache !== undefined && ttl > 0) cache.set(key, verdict, { ttl });
    return verdict;
  }

  function decide(verdict: Verdict, ctx: RequestContext, key: string): Identity {
    if (!verdict.ok) throw new AuthenticationFailure(verdict.reason, { credentialId: key.slice(0, 16) });
    if (now() >= verdict.validUntil) throw new AuthenticationFailure('introspection_expired');
    if (verdict.thumbprint !== undefined) {
      const presented = presentedThumbprint(ctx);
      if (presented === undefined) throw new AuthenticationFailure('introspection_certificate_missing');
      if (!sameThumbprint(verdict.thumbprint, presented)) {
        throw new AuthenticationFailure('introspection_certificate_mismatch');
      }
    }
    return verdict.identity;
  }

  return {
    method: options.method,
    challenge: `Bearer realm="${options.realm}"`,
    credentialHeaders: ['authorization'],
    authenticate(ctx) {
      const token = readBearerToken(ctx, options.maxTokenBytes);
      if (token === undefined) return undefined;
      if (token.length > options.maxTokenBytes) throw new AuthenticationFailure('bearer_token_too_large');
      const key = createHash('sha256').update(token).digest('base64url');
      const cached = cache?.get(key);
      if (cached !== undefined) return decide(cached, ctx, key);
      let pending = inflight.get(key);
      if (pending === undefined) {
        pending = lookUp(token, key).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending.then((verdict) => decide(verdict, ctx, key));
    },
  };
}

function serverConfig(build: BuildContext, name: string): IntrospectionServerConfig {
  const authn = build.config.authn as
    { introspection?: { servers?: Record<string, IntrospectionServerConfig> } } | undefined;
  const servers = authn?.introspection?.servers ?? {};
  if (!Object.hasOwn(servers, name)) {
    return build.fail(`unknown introspection server "${name}": define it under authn.introspection.servers`);
  }
  return servers[name] as IntrospectionServerConfig;
}

export const introspectionFactory: AuthenticatorFactory = {
  kind: 'introspection',
  globalKey: 'introspection',
  globalSchema: introspectionSectionSchema,
  create(instance, build) {
    if (instance === undefined)
      return build.fail('name the server: `introspection:<server>` (see authn.introspection.servers)');
    const config = serverConfig(build, instance);
    const realm = (build.config.authn as { realm?: string } | undefined)?.realm ?? 'portcullis';
    const audience =
      config.audience === undefined
        ? undefined
        : typeof config.audience === 'string'
          ? [config.audience]
          : config.audience;
    const calls = build.services.metrics.metric(
      'portcullis_introspection_requests_total',
      (registry) =>
        new Counter({
          name: 'portcullis_introspection_requests_total',
          help: 'Calls to token introspection servers (cache misses), by server and outcome',
          labelNames: ['server', 'outcome'],
          registers: [registry],
        }),
    );
    return createIntrospectionAuthenticator({
      method: `introspection:${instance}`,
      onCall: (outcome) => calls.inc({ server: instance, outcome }),
      realm,
      client: {
        url: config.url,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        clientAuth: config.clientAuth ?? 'client_secret_basic',
        timeoutMs: config.timeoutMs ?? INTROSPECTION_DEFAULTS.timeoutMs,
        maxResponseBytes: config.maxResponseBytes ?? INTROSPECTION_DEFAULTS.maxResponseBytes,
      },
      ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
      ...(audience === undefined ? {} : { audience }),
      maxTokenBytes: config.maxTokenBytes ?? INTROSPECTION_DEFAULTS.maxTokenBytes,
      cacheMaxEntries: config.cache?.maxEntries ?? INTROSPECTION_DEFAULTS.cacheMaxEntries,
      cacheMaxTtlMs: (config.cache?.maxTtlSec ?? INTROSPECTION_DEFAULTS.cacheMaxTtlSec) * 1000,
      negativeTtlMs: (config.cache?.negativeTtlSec ?? INTROSPECTION_DEFAULTS.negativeTtlSec) * 1000,
      claims: compileClaimMapping(config.claims),
      ...(config.claims?.subject === undefined
        ? { fallbackClaims: compileClaimMapping({ ...config.claims, subject: 'client_id' }) }
        : {}),
    });
  },
};
