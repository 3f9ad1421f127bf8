import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BruteForceGuard, createBruteForceState, FAILURE_KEY_PREFIX } from '../../src/authn/brute-force.js';
import { createRedisClient } from '../../src/counters/redis-client.js';
import { RedisCounterStore } from '../../src/counters/redis-store.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// With `counters: redis`, failed authentications are counted in Redis: every node and worker
// draws on one budget. Counted per process, two nodes gave an attacker twice the attempts.

describe('brute-force counts shared by every node over Redis', () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let dir: string;
  const nodes: TestGateway[] = [];

  before(async () => {
    redis = await startRedis();
    upstream = await startUpstream();
    dir = await mkdtemp(join(tmpdir(), 'pcs-bf-redis-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    for (let i = 0; i < 2; i++) {
      nodes.push(
        await startGateway(
          {
            store: { type: 'sqlite', path: 'store.db' },
            secrets: { kek: { provider: 'file', path: 'kek.key' } },
            counters: { type: 'redis', url: redis.url, keyPrefix: 'bf:' },
            authn: { bruteForce: { maxFailures: 4, windowSec: 60, blockSec: 60, delayMs: 0 } },
            upstreams: { echo: { targets: [{ url: upstream.url }] } },
            routes: [
              {
                name: 'orders',
                match: { pathPrefix: '/orders' },
                upstream: 'echo',
                authorization: { roles: { reader: { permissions: ['*'] } } },
                authentication: { anyOf: ['api_key'] },
              },
            ],
          },
          { dir },
        ),
      );
    }
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await upstream?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const guess = async (node: TestGateway): Promise<number> => {
    const res = await fetch(`${node.url}/orders/1`, {
      headers: {
        'x-api-key': `pk_${randomBytes(6).toString('hex')}.${randomBytes(24).toString('base64url')}`,
      },
    });
    await res.arrayBuffer();
    return res.status;
  };

  test('failures spread over two nodes add up to one budget, and the block reaches both', async () => {
    const [a, b] = nodes as [TestGateway, TestGateway];
    // two failures on each node: per process, neither would reach maxFailures (4)
    const statuses = [await guess(a), await guess(b), await guess(a), await guess(b)];
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    // the fourth failure blocked the address on node b, which told node a
    const deadline = Date.now() + 5000;
    let seen: number[] = [];
    // probed without a credential: not a failure, so it adds nothing to the counts
    const probe = async (node: TestGateway): Promise<number> => {
      const res = await fetch(`${node.url}/orders/1`);
      await res.arrayBuffer();
      return res.status;
    };
    while (Date.now() < deadline) {
      seen = [await probe(a), await probe(b)];
      if (seen[0] === 429 && seen[1] === 429) break;
      await sleep(50);
    }
    assert.deepEqual(seen, [429, 429]);
    // the shared count was reset by the block (it starts again when the block ends)
    assert.equal(await redis.cli('EXISTS', `bf:{${FAILURE_KEY_PREFIX}ip:127.0.0.1}`), '0\n');
  });
});

describe('the guard when the shared store fails', () => {
  test('a failure is then counted in this process, and the store error is reported', async () => {
    const redis = await startRedis();
    const client = createRedisClient({ type: 'redis', url: redis.url, commandTimeoutMs: 200 });
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const store = new RedisCounterStore(client, 'g:');
    const errors: unknown[] = [];
    const blocks: string[] = [];
    try {
      const guard = new BruteForceGuard(
        { maxFailures: 2, windowSec: 60, blockSec: 60, delayMs: 5 },
        createBruteForceState(),
        Date.now,
        {
          counters: store,
          onStoreError: (error) => errors.push(error),
          onBlock: (subject, id) => blocks.push(`${subject}:${id}`),
        },
      );
      assert.deepEqual(await guard.countFailure('ip', '203.0.113.7'), { delayMs: 5, blocked: false });
      assert.equal(await redis.cli('GET', `g:{${FAILURE_KEY_PREFIX}ip:203.0.113.7}`), '1\n');
      await redis.kill();
      // Redis is gone: counted locally (1 there), so no block yet, and no exception
      const local = await guard.countFailure('ip', '203.0.113.7');
      assert.equal(local.blocked, false);
      assert.ok(errors.length >= 1, 'the store failure was reported');
      const second = await guard.countFailure('ip', '203.0.113.7');
      assert.equal(second.blocked, true, 'the local count still blocks at maxFailures');
      assert.deepEqual(blocks, ['ip:203.0.113.7']);
      assert.ok(guard.blockedSeconds('ip', '203.0.113.7') > 0);
    } finally {
      await store.close();
      await redis.stop();
    }
  });
});
