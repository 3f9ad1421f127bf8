import { timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { checkPublicJwks } from '../authn/public-jwks.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Consumer, OAuthClientRecord } from '../store/types.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthRuntime } from './runtime.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric algorithms accepted for client assertions; never HS* nor `none`. */
export const ASSERTION_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
];

export interface AuthenticatedClient {
  readonly client: OAuthClientRecord;
  readonly consumer: Consumer;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

export interface ClientAuthOptions {
  /** `aud` values accepted in client assertions: the token endpoint URL and the issuer. */
  readonly audiences: readonly string[];
  readonly assertionMaxAgeSec: number;
  readonly now?: () => number;
}

/** Compared against when the client is unknown or has no secret, so every path costs the same. */
const DUMMY_HASH = Buffer.alloc(32);

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new OAuthError('invalid_client', 'oauth_basic_malformed');
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'oauth_basic_malformed');
  }
}

function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Authenticates the client of a token or revocation request: `client_secret_basic`,
 * `client_secret_post` (secrets compared as keyed hashes in constant time) or `private_key_jwt`
 * (RFC 7523: signed by a key registered for the client, aud = this server, iss = sub = client_id,
 * short-lived, jti never reused). Exactly one method per request.
 */
export async function authenticateClient(
  ctx: RequestContext,
  params: ReadonlyMap<string, string>,
  runtime: OAuthRuntime,
  options: ClientAuthOptions,
): Promise<AuthenticatedClient> {
  const basic = basicCredentials(ctx.header('authorization'));
  const postSecret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  const assertionType = params.get('client_assertion_type');
  const methods = [basic, postSecret, assertion].filter((method) => method !== undefined).length;
  if (methods === 0)
    throw new OAuthError('invalid_client', 'oauth_client_auth_missing', 'client authentication required');
  if (methods > 1)
    throw new OAuthError(
      'invalid_request',
      'oauth_client_auth_multiple',
      'use exactly one client authentication method',
    );

  if (assertion !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION)
      throw new OAuthError('invalid_client', 'oauth_assertion_type_unsupported');
    const verified = await verifyAssertion(ctx, assertion, params.get('client_id'), runtime, options);
    return { ...verified, method: 'private_key_jwt' };
  }

  const id = basic?.id ?? params.get('client_id');
  const secret = basic?.secret ?? postSecret;
  if (id === undefined || secret === undefined)
    throw new OAuthError('invalid_client', 'oauth_client_id_missing');
  if (basic !== undefined && params.has('client_id') && params.get('client_id') !== id) {
    throw new OAuthError('invalid_request', 'oauth_client_id_conflict');
  }
  ctx.logFields.oauthClientId = id.slice(0, 128);
  const client = await lookUp(runtime, id);
  const matches = hashesEqual(runtime.hash(secret), client?.secretHash ?? DUMMY_HASH);
  if (client === undefined || client.secretHash === null || !matches) {
    throw new OAuthError(
      'invalid_client',
      client === undefined ? 'oauth_client_unknown' : 'oauth_client_secret_wrong',
    );
  }
  const consumer = await checkUsable(runtime, client, options.now?.() ?? Date.now());
  return { client, consumer, method: basic === undefined ? 'client_secret_post' : 'client_secret_basic' };
}

async function lookUp(runtime: OAuthRuntime, clientId: string): Promise<OAuthClientRecord | undefined> {
  if (clientId.length > 256) return undefined;
  return (await runtime.store.getClient(clientId)) ?? undefined;
}

async function checkUsable(runtime: OAuthRuntime, client: OAuthClientRecord, now: number): Promise<Consumer> {
  if (client.revokedAt !== null && client.revokedAt <= now)
    throw new OAuthError('invalid_client', 'oauth_client_revoked');
  const consumer = await runtime.store.getConsumer(client.consumerId);
  if (consumer === null || consumer.disabled)
    throw new OAuthError('invalid_client', 'oauth_client_consumer_disabled');
  return consumer;
}

async function verifyAssertion(
  ctx: RequestContext,
  assertion: string,
  clientIdParam: string | undefined,
  runtime: OAuthRuntime,
  options: ClientAuthOptions,
): Promise<{ client: OAuthClientRecord; consumer: Consumer }> {
  if (assertion.length > 8192) throw new OAuthError('invalid_client', 'oauth_assertion_too_large');
  // the client is named by the (unverified) iss; the signature check below is what proves it
  let claimedId: unknown;
  try {
    const payload = JSON.parse(
      Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as JWTPayload;
    claimedId = payload.iss;
  } catch {
    throw new OAuthError('invalid_client', 'oauth_assertion_malformed');
  }
  if (typeof claimedId !== 'string' || claimedId.length === 0)
    throw new OAuthError('invalid_client', 'oauth_assertion_malformed');
  if (clientIdParam !== undefined && clientIdParam !== claimedId)
    throw new OAuthError('invalid_client', 'oauth_assertion_client_mismatch');
  ctx.logFields.oauthClientId = claimedId.slice(0, 128);
  const client = await lookUp(runtime, claimedId);
  if (client === undefined || client.jwks === null)
    throw new OAuthError('invalid_client', 'oauth_client_unknown');
  let keys;
  try {
    keys = createLocalJWKSet(checkPublicJwks(client.jwks) as never);
  } catch {
    throw new OAuthError('invalid_client', 'oauth_client_jwks_invalid');
  }
  const now = options.now?.() ?? Date.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: claimedId,
      subject: claimedId,
      audience: [...options.audiences],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 30,
      currentDate: new Date(now),
      crit: {},
    }));
  } catch (error) {
    const reason = error instanceof errors.JWTExpired ? 'oauth_assertion_expired' : 'oauth_assertion_invalid';
    throw new OAuthError('invalid_client', reason);
  }
  const exp = (payload.exp as number) * 1000;
  const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : now;
  if (exp - Math.min(issuedAt, now) > options.assertionMaxAgeSec * 1000) {
    throw new OAuthError('invalid_client', 'oauth_assertion_lifetime_too_long');
  }
  if (!(await runtime.replay.firstUse(client.clientId, payload.jti as string, exp + 30_000, now))) {
    throw new OAuthError('invalid_client', 'oauth_assertion_replayed');
  }
  return { client, consumer: await checkUsable(runtime, client, now) };
}
