import type { EventChannel, EventPayload } from '../events/types.js';
import type { Logger } from '../observe/logger.js';
import { applyBlock, type BruteForceState, type BruteForceSubject } from './brute-force.js';

export const BLOCK_EVENT = 'authn.blocked';
const MAX_BLOCK_MS = 86_400_000;

/**
 * Shares brute-force blocks between nodes over the event channel (Redis pub/sub when counters
 * are on Redis): failures are counted per node, but once one node blocks an address or key id,
 * every node refuses it until the block ends. Payloads carry a look-up id or an address, never a
 * credential.
 */
export function shareBlocks(
  channel: EventChannel,
  state: BruteForceState,
  logger: Logger,
  now: () => number = Date.now,
): { publish(subject: BruteForceSubject, id: string, until: number): void; close(): void } {
  const unsubscribe = channel.subscribe(BLOCK_EVENT, (payload: EventPayload) => {
    const { subject, id, until } = payload;
    if (subject !== 'ip' && subject !== 'key') return;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return;
    if (typeof until !== 'number' || !Number.isFinite(until)) return;
    applyBlock(state, subject, id, Math.min(until, now() + MAX_BLOCK_MS));
  });
  return {
    publish(subject, id, until) {
      channel.publish(BLOCK_EVENT, { subject, id, until }).catch((error: unknown) => {
        logger.warn({ err: error, subject }, 'could not share a brute-force block with other nodes');
      });
    },
    close: unsubscribe,
  };
}
