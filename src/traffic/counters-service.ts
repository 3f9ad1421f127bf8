import { Counter } from 'prom-client';
import type { CountersConfig, StoreErrorPolicy } from '../counters/config.js';
import { MemoryCounterStore } from '../counters/memory-store.js';
import { createRedisClient } from '../counters/redis-client.js';
import { RedisCounterStore } from '../counters/redis-store.js';
import type { CounterStore } from '../counters/types.js';
import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService, type Services } from '../pipeline/services.js';

/** Long-lived counters for every traffic stage: the configured store plus a local fallback. */
export interface CountersService {
  readonly config: CountersConfig;
  readonly store: CounterStore;
  /** Local limiter used by `fail-open` limits while the shared store is unreachable. */
  readonly fallback: MemoryCounterStore;
  /** Nodes sharing the store: a fallback admits `1 / expectedNodes` of each limit. */
  readonly expectedNodes: number;
  readonly defaultPolicy: StoreErrorPolicy;
  /** Records a store failure: a metric and (at most every 5 s) a log line. */
  storeFailed(error: unknown, limit: string, policy: StoreErrorPolicy): void;
}

const DEFAULT_COUNTERS: CountersConfig = { type: 'memory' };
const LOG_EVERY_MS = 5000;

/** The counters service for the loaded config, created once and kept across reloads. */
export function countersService(build: BuildContext): CountersService {
  const config = (build.config.counters as CountersConfig | undefined) ?? DEFAULT_COUNTERS;
  return countersServiceFor(build.services, config);
}

export function countersServiceFor(services: Services, config: CountersConfig): CountersService {
  return sharedService(services, `traffic.counters:${JSON.stringify(config)}`, () => {
    const service = createCountersService(services, config);
    services.onClose(async () => {
      await service.store.close();
      await service.fallback.close();
    });
    return service;
  });
}

function createCountersService(services: Services, config: CountersConfig): CountersService {
  const fallback = new MemoryCounterStore({ maxKeys: 100_000 });
  const failures = services.metrics.metric(
    'portcullis_counter_store_errors_total',
    (registry) =>
      new Counter({
        name: 'portcullis_counter_store_errors_total',
        help: 'Counter store (Redis) failures, by limit and the policy applied',
        labelNames: ['limit', 'policy'],
        registers: [registry],
      }),
  );
  let lastLog = 0;
  let suppressed = 0;
  const storeFailed = (error: unknown, limit: string, policy: StoreErrorPolicy): void => {
    failures.inc({ limit, policy });
    const now = Date.now();
    if (now - lastLog < LOG_EVERY_MS) {
      suppressed++;
      return;
    }
    lastLog = now;
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    services.logger.warn(
      { event: 'counter_store_error', limit, policy, cause, suppressed },
      `counter store unavailable; applying ${policy}`,
    );
    suppressed = 0;
  };

  if (config.type === 'memory') {
    return {
      config,
      store: new MemoryCounterStore({ maxKeys: config.maxKeys ?? 100_000 }),
      fallback,
      expectedNodes: 1,
      defaultPolicy: 'fail-closed',
      storeFailed,
    };
  }
  const client = createRedisClient(config, 'counters');
  let down = false;
  const lost = (cause: string): void => {
    if (!down) services.logger.warn({ event: 'counter_store_error', cause }, 'redis connection lost');
    down = true;
  };
  client.on('error', (error: Error) => lost(error.message));
  client.on('close', () => lost('connection closed'));
  client.on('ready', () => {
    if (down) services.logger.info({ event: 'counter_store_recovered' }, 'redis connection restored');
    down = false;
  });
  return {
    config,
    store: new RedisCounterStore(
      client,
      config.keyPrefix ?? 'portcullis:',
      true,
      config.commandTimeoutMs ?? 250,
    ),
    fallback,
    expectedNodes: config.expectedNodes ?? 1,
    defaultPolicy: config.onStoreError ?? 'fail-closed',
    storeFailed,
  };
}
