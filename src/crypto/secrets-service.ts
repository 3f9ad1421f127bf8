import type { Services } from '../pipeline/services.js';
import {
  configUsesSecrets,
  keyringSectionsFromRaw,
  openSecretsForConfig,
  type OpenedSecrets,
} from './config-secrets.js';

/** Shared-services key of the gateway's keyring and secret resolver. */
export const SECRETS_SERVICE_KEY = 'crypto.secrets';

/**
 * Opens the store and keyring before the first config load when the config uses secrets (a
 * `secrets:` section or a `${secret:…}` reference). A missing, weak, world-readable, example
 * or wrong KEK throws KeyringError, which stops the start. Kept across reloads; closed on
 * shutdown. Returns undefined when the config does not use secrets.
 */
export async function prepareSecretsService(
  raw: Readonly<Record<string, unknown>> | null | undefined,
  file: string,
  services: Services,
): Promise<OpenedSecrets | undefined> {
  const existing = services.shared.get(SECRETS_SERVICE_KEY) as Promise<OpenedSecrets> | undefined;
  if (existing !== undefined) return existing;
  if (!configUsesSecrets(raw)) return undefined;
  const opening = (async () => openSecretsForConfig(await keyringSectionsFromRaw(raw, file)))();
  services.shared.set(SECRETS_SERVICE_KEY, opening);
  try {
    const opened = await opening;
    services.onClose(() => opened.close());
    return opened;
  } catch (error) {
    services.shared.delete(SECRETS_SERVICE_KEY);
    throw error;
  }
}

/**
 * A `resolveSecret` for `loadConfigFile` that uses the service opened by prepareSecretsService
 * (looked up at each call, so it can be created before the service exists).
 */
export function sharedSecretResolver(services: Pick<Services, 'shared'>): (name: string) => Promise<string> {
  return async (name) => {
    const opened = services.shared.get(SECRETS_SERVICE_KEY) as Promise<OpenedSecrets> | undefined;
    if (opened === undefined) throw new Error(`\${secret:${name}} is used but the keyring is not open`);
    return (await opened).resolveSecret(name);
  };
}
