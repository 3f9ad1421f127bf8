import type { RequestContext } from '../pipeline/context.js';
import { AuthenticationFailure } from './authenticator.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The RFC 6750 bearer token of a request, or undefined when there is no `Authorization: Bearer`.
 * Over-long or malformed bearer credentials are refused before anything parses them.
 */
export function readBearerToken(ctx: RequestContext, maxBytes: number): string | undefined {
  const header = ctx.header('authorization');
  if (header === undefined || !/^bearer(?: |$)/i.test(header)) return undefined;
  if (header.length > maxBytes + 7) throw new AuthenticationFailure('bearer_token_too_large');
  const match = BEARER.exec(header);
  if (match === null)
    throw new AuthenticationFailure('bearer_token_malformed', { oauthError: 'invalid_request' });
  return match[1];
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when the token has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return JWS_COMPACT.test(token);
}
