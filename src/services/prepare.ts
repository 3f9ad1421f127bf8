import type { GatewayConfig } from '../config/types.js';
import type { Services } from '../pipeline/services.js';

/**
 * Opens the long-lived services a config asks for (store, keyring, counters, load shedder)
 * before the first route build, and registers their cleanup.
 */
export async function prepareServices(config: GatewayConfig, services: Services): Promise<void> {
  void config;
  void services;
}
