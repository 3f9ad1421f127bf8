import type { LoadedConfig } from '../config/load.js';
import type { StoreConfig } from '../store/types.js';
import { openStore } from '../store/index.js';
import { CredentialAdmin } from './credential-admin.js';
import { apiKeySettings } from './api-key-runtime.js';
import { openCredentialHasher } from './credential-hasher.js';

/** Opens the store and keyring a config points at, for the CLI (one command, then close). */
export async function openCredentialAdmin(
  loaded: LoadedConfig,
): Promise<{ admin: CredentialAdmin; close(): Promise<void> }> {
  const store = await openStore(loaded.config.store as StoreConfig | undefined, loaded.configDir);
  try {
    const hash = await openCredentialHasher(loaded.config, loaded.configDir, store);
    const admin = new CredentialAdmin(store, { hash, prefix: apiKeySettings(loaded.config).prefix });
    return { admin, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
