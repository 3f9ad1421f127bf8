import type { BuildContext } from '../pipeline/build-context.js';
import type { GatewayConfig } from '../config/types.js';
import { sharedService } from '../pipeline/services.js';
import { DEFAULT_API_KEY_SETTINGS, type ApiKeySettings, type AuthnGlobalConfig } from './config.js';
import type { ApiKeyDeps } from './api-key-authenticator.js';
import { ApiKeyDirectory } from './api-key-directory.js';
import { LastUsedRecorder } from './last-used.js';
import { credentialServices } from './credential-services.js';

export function apiKeySettings(config: GatewayConfig): ApiKeySettings {
  const authn = (config.authn ?? {}) as AuthnGlobalConfig;
  return { ...DEFAULT_API_KEY_SETTINGS, ...authn.apiKey };
}

/** The long-lived parts of API-key checking (cache, last-used batching), one per process. */
export async function apiKeyRuntime(build: BuildContext, settings: ApiKeySettings): Promise<ApiKeyDeps> {
  let credentials;
  try {
    credentials = await credentialServices(build.services, build.config, build.configDir);
  } catch (error) {
    return build.fail(`API keys need the credential store and keyring: ${(error as Error).message}`);
  }
  const { store, hash, beforeClose } = credentials;
  const { services } = build;
  return sharedService(services, 'authn.apiKey.runtime', () => {
    const directory = new ApiKeyDirectory(store, { max: settings.cacheSize });
    const recorder = new LastUsedRecorder(store, settings.lastUsedFlushSec * 1000, services.logger);
    beforeClose(async () => {
      directory.close();
      await recorder.close();
    });
    return { directory, hash, touch: (lookupId: string) => recorder.record(lookupId) };
  });
}
