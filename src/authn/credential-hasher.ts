import type { GatewayConfig } from '../config/types.js';
import type { CredentialStore } from '../store/types.js';
import type { SecretsConfig } from '../crypto/config.js';
import { hashCredential } from '../crypto/hash.js';
import { openKeyring } from '../crypto/keyring.js';

/** HMAC-SHA-256 of a credential (API key, client secret) with the keyring's server pepper. */
export type CredentialHasher = (secret: string) => Buffer;

export async function openCredentialHasher(
  config: GatewayConfig,
  configDir: string,
  store: CredentialStore,
): Promise<CredentialHasher> {
  const keyring = await openKeyring({
    config: config.secrets as SecretsConfig | undefined,
    configDir,
    store,
  });
  return (secret) => hashCredential(keyring, secret);
}
