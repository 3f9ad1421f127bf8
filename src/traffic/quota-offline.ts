import type { CountersConfig } from '../counters/config.js';
import { createRedisClient } from '../counters/redis-client.js';
import { RedisCounterStore } from '../counters/redis-store.js';
import type { GatewayConfig } from '../config/types.js';
import { openStore } from '../store/index.js';
import type { CredentialStore, StoreConfig } from '../store/types.js';
import { compileQuota, countersBackend, credentialStoreBackend, type QuotaConfig } from './quota.js';
import type { RegisteredQuota } from './quota-registry.js';

export interface OfflineQuotas {
  readonly quotas: RegisteredQuota[];
  /** The credential store (to resolve consumers by name). */
  readonly store: CredentialStore;
  close(): Promise<void>;
}

/**
 * Opens the quotas a config declares straight from their stores, outside a running gateway (the
 * CLI). Quotas counted in an in-memory counters store live only inside the gateway process: they
 * are refused here (use the admin API).
 */
export async function openOfflineQuotas(config: GatewayConfig, configDir: string): Promise<OfflineQuotas> {
  const counters = config.counters as CountersConfig | undefined;
  const store = await openStore(config.store as StoreConfig | undefined, configDir);
  let redis: RedisCounterStore | undefined;
  const quotas = new Map<string, RegisteredQuota>();
  try {
    for (const route of config.routes) {
      const section = route.quota as QuotaConfig | undefined;
      if (section === undefined) continue;
      const quota = compileQuota(section);
      if (quotas.has(quota.name)) continue;
      const kind = section.store ?? (counters?.type === 'redis' ? 'counters' : 'credential-store');
      if (kind === 'credential-store') {
        quotas.set(quota.name, { quota, backend: credentialStoreBackend(() => store) });
        continue;
      }
      if (counters === undefined || counters.type !== 'redis') {
        throw new Error(
          `quota "${quota.name}" is counted in memory inside the gateway; use the admin API (GET /admin/quotas)`,
        );
      }
      if (redis === undefined) {
        const client = createRedisClient(counters, 'subscriber'); // queue commands until connected
        client.on('error', () => undefined);
        redis = new RedisCounterStore(client, counters.keyPrefix ?? 'portcullis:');
      }
      quotas.set(quota.name, { quota, backend: countersBackend(redis) });
    }
  } catch (error) {
    await redis?.close();
    await store.close();
    throw error;
  }
  return {
    quotas: [...quotas.values()],
    store,
    async close() {
      await redis?.close();
      await store.close();
    },
  };
}
