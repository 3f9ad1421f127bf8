import { CREDENTIAL_SERVICES_KEY, type CredentialServices } from '../authn/credential-services.js';
import type { GatewayConfig } from '../config/types.js';
import type { Services } from '../pipeline/services.js';
import { openStore } from '../store/index.js';
import type { CredentialStore, StoreConfig } from '../store/types.js';

const OWN_STORE_KEY = 'traffic.quota.store';

/**
 * The credential store that keeps quota counts: the one authentication already opened when there
 * is one, otherwise a handle of our own (quotas need no keyring). Opened on first use, closed on
 * shutdown; a failed open is retried on the next call.
 */
export function quotaStore(
  services: Services,
  config: GatewayConfig,
  configDir: string,
): Promise<CredentialStore> {
  const credentials = services.shared.get(CREDENTIAL_SERVICES_KEY) as Promise<CredentialServices> | undefined;
  if (credentials !== undefined) return credentials.then((c) => c.store);
  let own = services.shared.get(OWN_STORE_KEY) as Promise<CredentialStore> | undefined;
  if (own === undefined) {
    own = openStore(config.store as StoreConfig | undefined, configDir, {
      onError: (error) => services.logger.warn({ err: error }, 'quota store change feed error'),
    });
    const opening = own;
    services.shared.set(OWN_STORE_KEY, opening);
    opening.then(
      (store) => services.onClose(() => store.close()),
      () => services.shared.delete(OWN_STORE_KEY),
    );
  }
  return own;
}
