import type { LocalReply } from '../pipeline/stage.js';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type';

/**
 * An RFC 6749 §5.2 error of the token or revocation endpoint. These endpoints answer with
 * `application/json` `{error, error_description}` as the RFC requires, not problem+json.
 * `reason` is for logs only.
 */
export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly reason: string,
    readonly description?: string,
  ) {
    super(reason);
    this.name = 'OAuthError';
  }
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): LocalReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
    body: JSON.stringify(body),
  };
}

export function oauthErrorReply(error: OAuthError, realm: string): LocalReply {
  const body = {
    error: error.code,
    ...(error.description === undefined ? {} : { error_description: error.description }),
  };
  if (error.code === 'invalid_client') {
    return jsonReply(401, body, { 'www-authenticate': `Basic realm="${realm}"` });
  }
  return jsonReply(400, body);
}
