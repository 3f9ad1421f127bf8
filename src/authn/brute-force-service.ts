import type { CountersConfig } from '../counters/config.js';
import { eventChannel } from '../events/shared.js';
import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService } from '../pipeline/services.js';
import { countersService } from '../traffic/counters-service.js';
import {
  BruteForceGuard,
  createBruteForceState,
  DEFAULT_BRUTE_FORCE,
  type BruteForceOptions,
  type BruteForceSettings,
} from './brute-force.js';
import { shareBlocks } from './brute-force-sharing.js';

export type BruteForceConfig = Partial<BruteForceSettings> & { readonly enabled?: boolean };

/**
 * The brute-force guard for `authn.bruteForce` (undefined when disabled), used by the
 * authentication stage and the authorization server alike. Blocks live in one state per process,
 * kept across reloads, and are announced to the other nodes on the event channel; failures are
 * counted in Redis when `counters` is Redis (one budget for every node and worker), else in
 * this process.
 */
export function bruteForceGuard(
  build: BuildContext,
  config: BruteForceConfig | undefined,
): BruteForceGuard | undefined {
  if (config?.enabled === false) return undefined;
  const { services } = build;
  const state = sharedService(services, 'authn.bruteForce', () => createBruteForceState());
  const sharing = sharedService(services, 'authn.bruteForce.sharing', () => {
    const shared = shareBlocks(eventChannel(build), state, services.logger);
    services.onClose(() => shared.close());
    return shared;
  });
  const counters =
    (build.config.counters as CountersConfig | undefined)?.type === 'redis'
      ? countersService(build)
      : undefined;
  const options: BruteForceOptions = {
    onBlock: (subject, id, until) => sharing.publish(subject, id, until),
    ...(counters === undefined
      ? {}
      : {
          counters: counters.store,
          onStoreError: (error: unknown) => counters.storeFailed(error, 'authn.bruteForce', 'fail-open'),
        }),
  };
  const { enabled: _enabled, ...settings } = config ?? {};
  return new BruteForceGuard({ ...DEFAULT_BRUTE_FORCE, ...settings }, state, Date.now, options);
}
