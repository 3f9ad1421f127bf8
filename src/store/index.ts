import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_SQLITE_PATH } from './config.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { CredentialStore, StoreConfig } from './types.js';

export { storeConfigSchema, DEFAULT_SQLITE_PATH } from './config.js';
export { StoreError } from './errors.js';
export type * from './types.js';

export interface OpenStoreOptions {
  readonly onError?: (error: unknown) => void;
}

/** Opens the configured store (SQLite by default), applying pending migrations. */
export async function openStore(
  config: StoreConfig | undefined,
  configDir: string,
  options: OpenStoreOptions = {},
): Promise<CredentialStore> {
  const onError = options.onError === undefined ? {} : { onError: options.onError };
  if (config === undefined || config.type === 'sqlite') {
    return new SqliteStore(resolveStorePath(config?.path, configDir), onError);
  }
  return PostgresStore.open({
    url: config.url,
    ...(config.poolSize === undefined ? {} : { poolSize: config.poolSize }),
    ...onError,
  });
}

/** The SQLite file a config points at. */
export function resolveStorePath(path: string | undefined, configDir: string): string {
  const p = path ?? DEFAULT_SQLITE_PATH;
  return p === ':memory:' || isAbsolute(p) ? p : resolve(configDir, p);
}
