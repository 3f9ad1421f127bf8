import type { RequestContext } from '../pipeline/context.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure, type Authenticator, type AuthenticatorFactory } from './authenticator.js';
import { parseApiKey } from './api-key-format.js';
import { hashesEqual } from './api-key-hash.js';
import type { ApiKeyDirectory, ApiKeyEntry } from './api-key-directory.js';
import { API_KEY_SETTINGS_SCHEMA, type ApiKeySettings, type RouteAuthenticationConfig } from './config.js';
import { apiKeyRuntime, apiKeySettings } from './api-key-runtime.js';
import { takeQueryParam } from './query-param.js';

/** What the API-key authenticator needs at run time (long-lived, shared across reloads). */
export interface ApiKeyDeps {
  readonly directory: Pick<ApiKeyDirectory, 'get'>;
  /** HMAC-SHA-256 of a presented key with the server pepper. */
  hash(key: string): Buffer;
  /** Records a successful use (batched writes). */
  touch(lookupId: string): void;
  readonly now?: () => number;
}

export interface ApiKeyRouteOptions {
  /** Accept the key from the query string (always stripped from what is forwarded and logged). */
  readonly inQuery: boolean;
}

/** A hash no key produces: compared against when the look-up id is unknown, so both paths cost the same. */
const DUMMY_HASH = Buffer.alloc(32);

export function createApiKeyAuthenticator(
  deps: ApiKeyDeps,
  settings: Pick<ApiKeySettings, 'header' | 'queryParam'>,
  options: ApiKeyRouteOptions,
): Authenticator {
  const header = settings.header.toLowerCase();
  const now = deps.now ?? Date.now;

  function verify(
    ctx: RequestContext,
    key: string,
    lookupId: string,
    entry: ApiKeyEntry | undefined,
  ): Identity {
    const presented = deps.hash(key);
    const matches = hashesEqual(presented, entry?.record.keyHash ?? DUMMY_HASH);
    if (entry === undefined) throw new AuthenticationFailure('api_key_unknown', { credentialId: lookupId });
    if (!matches) throw new AuthenticationFailure('api_key_wrong_secret', { credentialId: lookupId });
    const { record, consumer } = entry;
    const at = now();
    if (record.revokedAt !== null && record.revokedAt <= at) fail('api_key_revoked', lookupId);
    if (record.expiresAt !== null && record.expiresAt <= at) fail('api_key_expired', lookupId);
    if (record.notAfter !== null && record.notAfter <= at) fail('api_key_rotated_out', lookupId);
    if (consumer === null) fail('api_key_consumer_missing', lookupId);
    if (consumer.disabled) fail('api_key_consumer_disabled', lookupId);
    if (entry.sources !== undefined && !entry.sources.allows(ctx.clientIp))
      fail('api_key_source_refused', lookupId);
    deps.touch(lookupId);
    return entry.identity;
  }

  return {
    method: 'api_key',
    challenge: 'ApiKey realm="portcullis"',
    credentialHeaders: [header],
    credentialQueryParams: [settings.queryParam],
    authenticate(ctx) {
      const fromQuery = takeQueryParam(ctx, settings.queryParam);
      if (fromQuery !== undefined && !options.inQuery) {
        throw new AuthenticationFailure('api_key_in_query_not_allowed', { oauthError: 'invalid_request' });
      }
      const fromHeader = ctx.header(header);
      if (fromQuery !== undefined && fromHeader !== undefined) {
        throw new AuthenticationFailure('api_key_presented_twice', { oauthError: 'invalid_request' });
      }
      const key = fromHeader ?? (fromQuery === null ? '' : fromQuery);
      if (key === undefined) return undefined;
      const parsed = parseApiKey(key);
      if (!parsed.ok) throw new AuthenticationFailure(`api_key_${parsed.reason}`);
      const { lookupId } = parsed.key;
      const entry = deps.directory.get(lookupId);
      if (entry instanceof Promise) {
        return entry.then(
          (resolved) => verify(ctx, key, lookupId, resolved),
          (error: unknown) => {
            // Fail closed: without the store no key is accepted, and the client is told to retry.
            throw new GatewayError('store_unavailable', {
              reason: 'credential_store_unavailable',
              cause: error,
            });
          },
        );
      }
      return verify(ctx, key, lookupId, entry);
    },
  };
}

function fail(reason: string, lookupId: string): never {
  throw new AuthenticationFailure(reason, { credentialId: lookupId });
}

export const apiKeyFactory: AuthenticatorFactory = {
  kind: 'api_key',
  globalKey: 'apiKey',
  globalSchema: API_KEY_SETTINGS_SCHEMA,
  async create(instance, build) {
    if (instance !== undefined) build.fail('`api_key` takes no instance name (write `api_key`)');
    const settings = apiKeySettings(build.config);
    const deps = await apiKeyRuntime(build, settings);
    const route = build.route.authentication as RouteAuthenticationConfig | undefined;
    return createApiKeyAuthenticator(deps, settings, { inQuery: route?.apiKeyInQuery === true });
  },
};
