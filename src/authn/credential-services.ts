import type { GatewayConfig } from '../config/types.js';
import { sharedService, type Services } from '../pipeline/services.js';
import type { CredentialStore, StoreConfig } from '../store/types.js';
import { openStore } from '../store/index.js';
import { openCredentialHasher, type CredentialHasher } from './credential-hasher.js';

export interface CredentialServices {
  readonly store: CredentialStore;
  readonly hash: CredentialHasher;
  /** Runs `fn` at shutdown before the store closes (final flushes). */
  beforeClose(fn: () => Promise<void> | void): void;
}

/** Shared-services key: tests and embedders may put a ready `Promise<CredentialServices>` here. */
export const CREDENTIAL_SERVICES_KEY = 'authn.credentials';

/**
 * The credential store and keyed hash for the running gateway: opened once per process on the
 * first config that needs them, kept across reloads, closed on shutdown. (Changing `store:` or
 * `secrets:` takes a restart.)
 */
export function credentialServices(
  services: Services,
  config: GatewayConfig,
  configDir: string,
): Promise<CredentialServices> {
  return sharedService(services, CREDENTIAL_SERVICES_KEY, () => {
    const opening = (async (): Promise<CredentialServices> => {
      const store = await openStore(config.store as StoreConfig | undefined, configDir, {
        onError: (error) => services.logger.error({ err: error }, 'credential store change feed error'),
      });
      let hash: CredentialHasher;
      try {
        hash = await openCredentialHasher(config, configDir, store);
      } catch (error) {
        await store.close();
        throw error;
      }
      const hooks: (() => Promise<void> | void)[] = [];
      services.onClose(async () => {
        for (const hook of hooks) await hook();
        await store.close();
      });
      return { store, hash, beforeClose: (fn) => void hooks.push(fn) };
    })();
    // A failed open must not stick: the next load retries.
    opening.catch(() => services.shared.delete(CREDENTIAL_SERVICES_KEY));
    return opening;
  });
}
