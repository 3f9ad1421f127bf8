import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Consumer, OAuthClientRecord } from '../store/types.js';
import type { SigningKeys } from '../crypto/signing-keys.js';

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scopes: readonly string[];
  readonly jti: string;
  readonly kid: string;
}

export interface TokenIssuerOptions {
  readonly issuer: string;
  readonly audience?: string;
  readonly ttlSec: number;
}

/**
 * Signs short-lived RFC 9068 JWT access tokens (`typ: at+jwt`) with the keyring's active key.
 * Every token has a `jti`, so that it can be revoked (RFC 7009).
 */
export async function issueAccessToken(
  signingKeys: SigningKeys,
  options: TokenIssuerOptions,
  client: OAuthClientRecord,
  consumer: Consumer,
  scopes: readonly string[],
  certificateThumbprint: string | undefined,
  nowMs = Date.now(),
): Promise<IssuedToken> {
  const key = await signingKeys.current(nowMs);
  const now = Math.floor(nowMs / 1000);
  const jti = randomUUID();
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    sub: client.clientId,
    client_id: client.clientId,
    consumer_id: client.consumerId,
    ...(consumer.roles.length === 0 ? {} : { roles: [...consumer.roles] }),
    ...(consumer.tenant === null ? {} : { tenant: consumer.tenant }),
    scope: scopes.join(' '),
    jti,
    iat: now,
    exp: now + options.ttlSec,
    aud: options.audience ?? options.issuer, // RFC 9068 requires `aud`
    ...(certificateThumbprint === undefined ? {} : { cnf: { 'x5t#S256': certificateThumbprint } }),
  };
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .sign(key.privateKey);
  return { accessToken, expiresIn: options.ttlSec, scopes, jti, kid: key.kid };
}
