import { openKeyring } from '../crypto/keyring.js';
import { hashCredential } from '../crypto/hash.js';
import { SigningKeys } from '../crypto/signing-keys.js';
import type { SecretsConfig } from '../crypto/config.js';
import { credentialServices } from '../authn/credential-services.js';
import { RevocationWatch } from '../authn/jwt-revocation.js';
import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService } from '../pipeline/services.js';
import type { CredentialStore } from '../store/types.js';
import { AssertionReplayGuard } from './assertion-replay.js';
import { OAUTH_DEFAULTS, readOAuthServerConfig, type OAuthServerConfig } from './config.js';
import { LocalKeySet } from './local-keys.js';

/** The authorization server's long-lived parts: one per process, kept across reloads. */
export interface OAuthRuntime {
  readonly store: CredentialStore;
  /** HMAC-SHA-256 of a client secret with the keyring's pepper. */
  hash(secret: string): Buffer;
  readonly signingKeys: SigningKeys;
  readonly localKeys: LocalKeySet;
  readonly revocation: RevocationWatch;
  readonly replay: AssertionReplayGuard;
}

export const OAUTH_RUNTIME_KEY = 'oauth.runtime';

/** Longest time a revoked jti must be remembered in memory: the longest token lifetime. */
const REMEMBER_REVOKED_MS = 3_600_000;

export function oauthServerConfig(build: BuildContext, at: string): OAuthServerConfig {
  const config = readOAuthServerConfig(build.config);
  if (config === undefined)
    return build.fail('the built-in authorization server needs the top-level `oauthServer` section', at);
  return config;
}

export function oauthRuntime(build: BuildContext, config: OAuthServerConfig): Promise<OAuthRuntime> {
  const { services } = build;
  return sharedService(services, OAUTH_RUNTIME_KEY, () => {
    const opening = (async (): Promise<OAuthRuntime> => {
      const { store, beforeClose } = await credentialServices(services, build.config, build.configDir);
      const keyring = await openKeyring({
        config: build.config.secrets as SecretsConfig | undefined,
        configDir: build.configDir,
        store,
      });
      const signingKeys = new SigningKeys(keyring, store, {
        alg: config.signingAlg ?? OAUTH_DEFAULTS.signingAlg,
      });
      const localKeys = new LocalKeySet(config.issuer, signingKeys, store, (error) =>
        services.logger.warn({ err: error }, 'oauth signing keys reload failed'),
      );
      await localKeys.reload();
      const revocation = new RevocationWatch(store, REMEMBER_REVOKED_MS);
      beforeClose(() => {
        localKeys.close();
        revocation.close();
        signingKeys.close();
      });
      return {
        store,
        hash: (secret: string) => hashCredential(keyring, secret),
        signingKeys,
        localKeys,
        revocation,
        replay: new AssertionReplayGuard(store),
      };
    })();
    opening.catch(() => services.shared.delete(OAUTH_RUNTIME_KEY));
    return opening;
  });
}
