import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { interpolate } from '../config/interpolate.js';
import { readConfigDocument } from '../config/load.js';
import { openStore } from '../store/index.js';
import type { CredentialStore, StoreConfig } from '../store/types.js';
import type { SecretsConfig } from './config.js';
import { openKeyring, type Keyring } from './keyring.js';
import { createSecretResolver } from './secrets.js';

/** The `store:` and `secrets:` sections of a config file, interpolated (env and file only). */
export interface KeyringSections {
  readonly file: string | undefined;
  readonly configDir: string;
  readonly store: StoreConfig | undefined;
  readonly secrets: SecretsConfig | undefined;
}

/**
 * Reads only `store:` and `secrets:` from a config file. Other sections are not validated and
 * their `${secret:…}` references are not resolved, so this works before those secrets exist.
 * A missing file is allowed when `optional` (defaults apply, relative to the working directory).
 */
export async function readKeyringSections(
  file: string,
  options: { readonly optional?: boolean; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<KeyringSections> {
  const absolute = resolve(file);
  if (options.optional === true && !existsSync(absolute)) {
    return { file: undefined, configDir: process.cwd(), store: undefined, secrets: undefined };
  }
  const { doc } = readConfigDocument(absolute);
  const raw = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
  return keyringSectionsFromRaw(raw, absolute, options.env);
}

/** Picks and interpolates `store:` and `secrets:` from an unvalidated config object. */
export async function keyringSectionsFromRaw(
  raw: Readonly<Record<string, unknown>> | null | undefined,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeyringSections> {
  const configDir = dirname(file);
  const subset = { store: raw?.['store'], secrets: raw?.['secrets'] };
  const result = await interpolate(subset, configDir, env, undefined);
  if (result.issues.length > 0) throw new ConfigError(file, result.issues);
  const value = result.value as { store?: StoreConfig | null; secrets?: SecretsConfig | null };
  return { file, configDir, store: value.store ?? undefined, secrets: value.secrets ?? undefined };
}

/** Whether a config needs the keyring at start: a `secrets:` section or any `${secret:…}`. */
export function configUsesSecrets(raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object') return false;
  if (!Array.isArray(raw) && (raw as Record<string, unknown>)['secrets'] !== undefined) return true;
  const visit = (node: unknown): boolean => {
    if (typeof node === 'string') return node.includes('${secret:');
    if (Array.isArray(node)) return node.some(visit);
    if (node !== null && typeof node === 'object') return Object.values(node).some(visit);
    return false;
  };
  return visit(raw);
}

export interface OpenedSecrets {
  readonly store: CredentialStore;
  readonly keyring: Keyring;
  /** For `loadConfigFile(file, { resolveSecret })`. */
  readonly resolveSecret: (name: string) => Promise<string>;
  close(): Promise<void>;
}

/** Opens the store and keyring a config file names (for the CLI and for resolving `${secret:…}`). */
export async function openSecretsForConfig(sections: KeyringSections): Promise<OpenedSecrets> {
  const store = await openStore(sections.store, sections.configDir);
  try {
    const keyring = await openKeyring({ config: sections.secrets, configDir: sections.configDir, store });
    return {
      store,
      keyring,
      resolveSecret: createSecretResolver(keyring, store),
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
