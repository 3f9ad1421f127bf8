import type { RequestContext } from '../pipeline/context.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure, type Authenticator, type AuthenticatorFactory } from './authenticator.js';
import {
  CHECKSUM_LENGTH,
  LOOKUP_ID_LENGTH,
  MAX_API_KEY_LENGTH,
  parseApiKey,
  SECRET_LENGTH,
} from './api-key-format.js';
import { hashesEqual } from './api-key-hash.js';
import { stringsEqual } from './constant-time.js';
import type { ApiKeyDirectory, ApiKeyEntry } from './api-key-directory.js';
import { API_KEY_SETTINGS_SCHEMA, type ApiKeySettings, type RouteAuthenticationConfig } from './config.js';
import { apiKeyRuntime, apiKeySettings } from './api-key-runtime.js';
import { takeQueryParam } from './query-param.js';

/** What the API-key authenticator needs at run time (long-lived, shared across reloads). */
export interface ApiKeyDeps {
  readonly directory: Pick<ApiKeyDirectory, 'get' | 'cached'>;
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
/** What follows the prefix in a well-formed key: `_<lookupId>_<secret>_<checksum>`. */
const TAIL_LENGTH = 1 + LOOKUP_ID_LENGTH + 1 + SECRET_LENGTH + 1 + CHECKSUM_LENGTH;
const UNDERSCORE = 0x5f;

export function createApiKeyAuthenticator(
  deps: ApiKeyDeps,
  settings: Pick<ApiKeySettings, 'header' | 'queryParam'>,
  options: ApiKeyRouteOptions,
): Authenticator {
  const header = settings.header.toLowerCase();
  const now = deps.now ?? Date.now;
  /**
   * The key whose HMAC matched each cached entry's stored hash. The directory replaces an entry
   * whenever the store reports a change to its key or consumer (revocation, rotation, deletion)
   * and this map holds entries weakly, so a remembered key never outlives the record it was
   * checked against. A hit replaces the HMAC (several µs) by a constant-time string comparison;
   * every other check (revocation and expiry times, consumer, source address) still runs on every
   * request. Held in memory only, like the key in the request being served; never stored or logged.
   */
  const verified = new WeakMap<ApiKeyEntry, string>();

  /**
   * The entry of a key equal to one already verified against it, else undefined. Needs no parsing:
   * equality with a verified key implies shape and checksum. The look-up id is cut from unchecked
   * input, which is why only the cache is asked (never the store). Look-up ids are not secret
   * (logs carry them); how much of a secret matched is, and `stringsEqual` does not tell.
   */
  function rememberedEntry(key: string): ApiKeyEntry | undefined {
    const prefixEnd = key.length - TAIL_LENGTH;
    if (prefixEnd <= 0 || key.length > MAX_API_KEY_LENGTH || key.charCodeAt(prefixEnd) !== UNDERSCORE)
      return undefined;
    const entry = deps.directory.cached(key.slice(prefixEnd + 1, prefixEnd + 1 + LOOKUP_ID_LENGTH));
    if (entry === undefined) return undefined;
    const known = verified.get(entry);
    return known !== undefined && stringsEqual(key, known) ? entry : undefined;
  }

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
    verified.set(entry, key);
    return accept(ctx, entry);
  }

  /** The checks that hold for a key whose secret is right: run on every request. */
  function accept(ctx: RequestContext, entry: ApiKeyEntry): Identity {
    const { record, consumer } = entry;
    const lookupId = record.lookupId;
    if (entry.deadline !== Number.POSITIVE_INFINITY) {
      const at = now();
      if (entry.deadline <= at) {
        if (record.revokedAt !== null && record.revokedAt <= at) fail('api_key_revoked', lookupId);
        if (record.expiresAt !== null && record.expiresAt <= at) fail('api_key_expired', lookupId);
        fail('api_key_rotated_out', lookupId);
      }
    }
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
      const remembered = rememberedEntry(key);
      if (remembered !== undefined) return accept(ctx, remembered);
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
