import { OAuthError } from './oauth-error.js';

/**
 * Parses an `application/x-www-form-urlencoded` body strictly: a parameter sent twice is an
 * error (RFC 6749 §3.2), and empty values count as absent.
 */
export function parseForm(body: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (params.has(name))
      throw new OAuthError('invalid_request', `oauth_duplicate_parameter`, `parameter "${name}" repeated`);
    if (value !== '') params.set(name, value);
  }
  return params;
}

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(' ').filter((scope) => scope.length > 0);
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope)))
    throw new OAuthError('invalid_scope', 'oauth_scope_malformed');
  return [...new Set(scopes)];
}
