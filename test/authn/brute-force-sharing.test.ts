import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { BruteForceGuard, createBruteForceState } from '../../src/authn/brute-force.js';
import { shareBlocks } from '../../src/authn/brute-force-sharing.js';
import { eventChannelFor } from '../../src/events/shared.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { Services } from '../../src/pipeline/services.js';
import { startRedis } from '../helpers/redis.js';

function node(): { services: Services; close(): Promise<void> } {
  const closers: (() => Promise<void> | void)[] = [];
  const services: Services = {
    logger: pino({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map(),
    onClose: (fn) => void closers.push(fn),
  };
  return {
    services,
    async close() {
      for (const fn of closers.reverse()) await fn();
    },
  };
}

describe('brute-force blocks across nodes over Redis pub/sub', async () => {
  const redis = await startRedis();
  after(() => redis.stop());

  test('an address blocked on node A is refused on node B', async () => {
    const counters = { type: 'redis' as const, url: redis.url };
    const a = node();
    const b = node();
    try {
      const settings = { maxFailures: 3, windowSec: 60, blockSec: 120, delayMs: 0 };
      const stateA = createBruteForceState();
      const stateB = createBruteForceState();
      const guardA = new BruteForceGuard(settings, stateA);
      const guardB = new BruteForceGuard(settings, stateB);
      const shareA = shareBlocks(eventChannelFor(a.services, counters), stateA, a.services.logger);
      const shareB = shareBlocks(eventChannelFor(b.services, counters), stateB, b.services.logger);
      await sleep(200); // subscriptions established
      let verdict = guardA.recordFailure('ip', '198.51.100.9');
      for (let i = 0; i < 2; i++) verdict = guardA.recordFailure('ip', '198.51.100.9');
      assert.ok(verdict.blocked && verdict.until !== undefined);
      shareA.publish('ip', '198.51.100.9', verdict.until);
      const start = Date.now();
      while (guardB.blockedSeconds('ip', '198.51.100.9') === 0) {
        if (Date.now() - start > 2000) assert.fail('block not seen on node B');
        await sleep(10);
      }
      assert.ok(guardB.blockedSeconds('ip', '198.51.100.9') > 100);
      assert.equal(guardB.blockedSeconds('ip', '198.51.100.10'), 0);
      shareA.close();
      shareB.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
