import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure } from './authenticator.js';
import { KeysUnavailableError } from './jwks-cache.js';
import { identityFromClaims, type CompiledClaimMapping } from './jwt-claims.js';
import type { KeySource } from './jwt-keys.js';
import type { RevocationWatch } from './jwt-revocation.js';
import type { VerifiedTokenCache, VerifiedToken } from './jwt-token-cache.js';

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience?: string | readonly string[];
  readonly algorithms: readonly string[];
  readonly keys: KeySource;
  readonly clockSkewSec: number;
  readonly maxAgeSec?: number;
  readonly requiredClaims: readonly string[];
  readonly typ?: string;
  readonly requireCertificateBinding: boolean;
  readonly claims: CompiledClaimMapping;
  readonly cache: VerifiedTokenCache | undefined;
  readonly revocation: RevocationWatch | undefined;
  readonly now?: () => number;
}

/** jose error → machine reason for logs (never sent to the client). */
export function joseReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'jwt_too_old' : 'jwt_expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `jwt_claim_${error.claim}_${error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'jwt_alg_not_allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'jwt_bad_signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'jwt_unknown_key';
  if (error instanceof errors.JOSENotSupported) return 'jwt_unsupported';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'jwt_malformed';
  if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) return 'jwt_key_invalid';
  return 'jwt_invalid';
}

/** SHA-256 thumbprint of a DER certificate, base64url (RFC 8705 `x5t#S256`). */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** The thumbprint of the client certificate presented on this connection, if any. */
export function presentedThumbprint(ctx: RequestContext): string | undefined {
  const socket = ctx.tlsSocket;
  if (socket === undefined) return undefined;
  const raw = socket.getPeerCertificate().raw as Buffer | undefined;
  return raw === undefined || raw.length === 0 ? undefined : certificateThumbprint(raw);
}

export function sameThumbprint(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies JWTs of one issuer. jose checks the signature (algorithm allow-list, configured keys
 * only: `jku`/`x5u`/`jwk`/`x5c` headers are never used), `crit`, `typ` and the claims; this class
 * adds the verified-token cache, revocation and certificate binding.
 */
export class JwtVerifier {
  private readonly verifyOptions: JWTVerifyOptions;
  private readonly now: () => number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.verifyOptions = {
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      clockTolerance: options.clockSkewSec,
      requiredClaims: ['exp', ...options.requiredClaims],
      crit: {},
      ...(options.audience === undefined
        ? {}
        : { audience: typeof options.audience === 'string' ? options.audience : [...options.audience] }),
      ...(options.maxAgeSec === undefined ? {} : { maxTokenAge: options.maxAgeSec }),
      ...(options.typ === undefined ? {} : { typ: options.typ }),
    };
  }

  /** Verifies `token` (already size-checked) and returns the identity, or throws AuthenticationFailure. */
  verify(token: string, ctx: RequestContext | undefined): Identity | Promise<Identity> {
    // a cache hit stays synchronous: the runner's fast path
    const cached = this.cached(token, ctx);
    if (cached !== undefined) return cached;
    const now = this.now();
    return this.verifyFresh(token, now).then((fresh) => {
      this.options.cache?.set(token, fresh, now);
      return this.accept(fresh, token, ctx);
    });
  }

  /**
   * The identity of exactly this token when it was verified before and its entry still holds
   * (unexpired, key still trusted); undefined when it must be verified. Throws like `verify` when
   * a remembered token is refused now (revoked, certificate binding). Safe on unchecked input:
   * only a token equal to a verified one is ever served.
   */
  cached(token: string, ctx: RequestContext | undefined): Identity | undefined {
    const { cache } = this.options;
    if (cache === undefined) return undefined;
    const entry = cache.get(token, this.now());
    if (entry === undefined) return undefined;
    if (!this.stillValid(entry)) {
      cache.delete(token);
      return undefined;
    }
    return this.accept(entry, token, ctx);
  }

  private accept(entry: VerifiedToken, token: string, ctx: RequestContext | undefined): Identity {
    const { revocation, cache } = this.options;
    if (
      revocation !== undefined &&
      entry.jti !== undefined &&
      revocation.invalidated(entry.jti, entry.revocationEpoch)
    ) {
      cache?.delete(token);
      throw new AuthenticationFailure('jwt_revoked', {
        credentialId: entry.identity.credentialId ?? entry.jti,
      });
    }
    this.checkBinding(entry, ctx);
    return entry.identity;
  }

  private stillValid(entry: VerifiedToken): boolean {
    return this.options.keys.stillTrusted(entry.kid, entry.generation);
  }

  private checkBinding(entry: VerifiedToken, ctx: RequestContext | undefined): void {
    const expected = entry.certificateThumbprint;
    if (expected === undefined) {
      if (this.options.requireCertificateBinding)
        throw new AuthenticationFailure('jwt_not_certificate_bound', {
          credentialId: entry.identity.credentialId ?? '',
        });
      return;
    }
    const presented = ctx === undefined ? undefined : presentedThumbprint(ctx);
    if (presented === undefined)
      throw new AuthenticationFailure('jwt_certificate_missing', {
        credentialId: entry.identity.credentialId ?? '',
      });
    if (!sameThumbprint(expected, presented))
      throw new AuthenticationFailure('jwt_certificate_mismatch', {
        credentialId: entry.identity.credentialId ?? '',
      });
  }

  private async verifyFresh(token: string, now: number): Promise<VerifiedToken> {
    const generation = this.options.keys.generation();
    const epoch = this.options.revocation?.epoch ?? 0;
    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      const result = await this.verifyWithKeys(token, now);
      payload = result.payload;
      kid = result.protectedHeader.kid;
    } catch (error) {
      if (error instanceof KeysUnavailableError) {
        throw new GatewayError('authn_unavailable', {
          reason: 'jwt_keys_unavailable',
          cause: error,
          headers: { 'retry-after': '5' },
        });
      }
      throw new AuthenticationFailure(joseReason(error), { cause: error });
    }
    const jti = typeof payload.jti === 'string' && payload.jti.length > 0 ? payload.jti : undefined;
    const credentialId = jti === undefined ? this.options.issuer : `${this.options.issuer}#${jti}`;
    const revocation = this.options.revocation;
    if (revocation !== undefined) {
      if (jti === undefined) throw new AuthenticationFailure('jwt_missing_jti', { credentialId });
      let revoked: boolean;
      try {
        revoked = await revocation.isRevoked(jti);
      } catch (error) {
        throw new GatewayError('authn_unavailable', {
          reason: 'revocation_check_failed',
          cause: error,
          headers: { 'retry-after': '5' },
        });
      }
      if (revoked) throw new AuthenticationFailure('jwt_revoked', { credentialId });
    }
    const cnf = payload.cnf as Record<string, unknown> | undefined;
    const thumbprint = cnf !== null && typeof cnf === 'object' ? cnf['x5t#S256'] : undefined;
    if (thumbprint !== undefined && (typeof thumbprint !== 'string' || thumbprint.length === 0)) {
      throw new AuthenticationFailure('jwt_cnf_malformed', { credentialId });
    }
    const exp = payload.exp as number;
    let validUntil = exp * 1000;
    if (this.options.maxAgeSec !== undefined && typeof payload.iat === 'number') {
      validUntil = Math.min(validUntil, (payload.iat + this.options.maxAgeSec) * 1000);
    }
    const identity = identityFromClaims(payload as Record<string, unknown>, this.options.claims, {
      method: 'jwt',
      issuer: this.options.issuer,
      credentialId,
      expiresAt: exp * 1000,
    });
    if (identity === undefined) throw new AuthenticationFailure('jwt_missing_subject', { credentialId });
    return {
      identity,
      kid,
      generation,
      jti,
      certificateThumbprint: thumbprint,
      validUntil: Math.max(validUntil, now),
      revocationEpoch: epoch,
    };
  }

  private async verifyWithKeys(token: string, now: number) {
    const options = { ...this.verifyOptions, currentDate: new Date(now) };
    const key = this.options.keys.getKey;
    try {
      return typeof key === 'function'
        ? await jwtVerify(token, key as JWTVerifyGetKey, options)
        : await jwtVerify(token, key as KeyObject, options);
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      // several keys match (no kid): try each, as jose documents
      for await (const candidate of error as unknown as AsyncIterable<Uint8Array>) {
        try {
          return await jwtVerify(token, candidate, options);
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }
}
