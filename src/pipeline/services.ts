import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';

/**
 * Long-lived services shared by every config generation (they survive reloads). Modules that
 * need a connection or a cache that must outlive a reload put it here.
 */
export interface Services {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Long-lived objects keyed by module (JWKS caches, store handles, ...), created on first use. */
  readonly shared: Map<string, unknown>;
  /** Registers a function to run on shutdown (close pools, connections). */
  onClose(fn: () => Promise<void> | void): void;
}

/** Returns the long-lived value for `key`, creating it with `create` on first use. */
export function sharedService<T>(services: Services, key: string, create: () => T): T {
  let value = services.shared.get(key) as T | undefined;
  if (value === undefined) {
    value = create();
    services.shared.set(key, value);
  }
  return value;
}
