import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { MemoryCounterStore } from '../../src/counters/memory-store.js';
import { RedisCounterStore } from '../../src/counters/redis-store.js';
import { createRedisClient } from '../../src/counters/redis-client.js';
import { CounterStoreUnavailable, type Decision } from '../../src/counters/types.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { counterStoreContract } from './contract.js';

let redis: RedisServer;
let store: RedisCounterStore;

before(async () => {
  redis = await startRedis();
  const client = createRedisClient({ type: 'redis', url: redis.url, commandTimeoutMs: 5000 });
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  store = new RedisCounterStore(client, 'test:');
});

after(async () => {
  await store.close();
  await redis.stop();
});

describe('redis counter store contract', () => {
  counterStoreContract('redis', () => store);
});

describe('redis counter store', () => {
  test('keys carry one hash tag and long keys are hashed', () => {
    assert.equal(store.redisKey('rl:route:limit:c1'), 'test:{rl:route:limit:c1}');
    const long = store.redisKey('x'.repeat(500));
    assert.match(long, /^test:\{h:[A-Za-z0-9_-]{43}\}$/);
    assert.match(store.redisKey('a}b{c'), /^test:\{h:/);
  });

  test('one decision is one EVALSHA (after the script is cached)', async () => {
    await store.gcra('warm', { emissionMs: 1000, burst: 100 }, 1);
    const stats = async (): Promise<Map<string, number>> => {
      const text = await redis.cli('info', 'commandstats');
      return new Map([...text.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]));
    };
    const before = await stats();
    for (let i = 0; i < 20; i++) await store.gcra('count', { emissionMs: 1000, burst: 100 }, 1);
    const after = await stats();
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    // commandstats also counts the commands a script runs (TIME, GET, SET): one TIME per script run
    assert.equal(delta('evalsha'), 20);
    assert.equal(delta('eval'), 0);
    assert.equal(delta('time'), 20);
    const inside = new Set(['evalsha', 'time', 'get', 'set', 'info']);
    const others = [...after.keys()].filter((name) => !inside.has(name) && delta(name) !== 0);
    assert.deepEqual(others, []);
  });

  test('the script reloads itself after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    await redis.cli('script', 'flush');
    const d = await store.gcra('flushed', { emissionMs: 1000, burst: 1 }, 1);
    assert.equal(d.allowed, true);
  });

  test('time comes from the Redis server, not the gateway clock', async () => {
    // a TAT written by a gateway whose clock ran an hour ahead would block; ours is read from Redis
    const raw = new Redis(redis.url);
    try {
      const [seconds] = (await raw.time()) as [number | string, number | string];
      const redisNow = Number(seconds) * 1000;
      await raw.set(store.redisKey('skew'), String(redisNow - 10_000));
      const d = await store.gcra('skew', { emissionMs: 1000, burst: 1 }, 1);
      assert.equal(d.allowed, true);
    } finally {
      raw.disconnect();
    }
  });

  test('an unreachable server rejects at once with CounterStoreUnavailable', async () => {
    const dead = new RedisCounterStore(
      createRedisClient({ type: 'redis', url: 'redis://127.0.0.1:1', connectTimeoutMs: 100 }),
    );
    dead.client.on('error', () => undefined);
    try {
      await assert.rejects(dead.gcra('x', { emissionMs: 1, burst: 1 }, 1), CounterStoreUnavailable);
      await assert.rejects(Promise.resolve(dead.increment('x', 1, 1, 1000)), CounterStoreUnavailable);
    } finally {
      dead.client.disconnect();
    }
  });

  test("the one-integer GCRA answer decodes to the memory store's decisions", async () => {
    const memory = new MemoryCounterStore({ now: () => 0 });
    const spec = { emissionMs: 3_600_000 / 7, burst: 3 };
    const round = (d: Decision): Decision => ({
      allowed: d.allowed,
      remaining: d.remaining,
      retryAfterMs: Math.round(d.retryAfterMs),
      resetMs: Math.round(d.resetMs),
    });
    for (let i = 0; i < 5; i++) {
      const fromRedis = round(await store.gcra('decode', spec, 1));
      const fromMemory = round(memory.gcra('decode', spec, 1));
      // Redis time moves between calls (a loaded machine: up to seconds); the memory clock stands
      const at = `request ${i + 1}: ${JSON.stringify([fromRedis, fromMemory])}`;
      assert.equal(fromRedis.allowed, fromMemory.allowed, at);
      assert.equal(fromRedis.remaining, fromMemory.remaining, at);
      assert.ok(Math.abs(fromRedis.retryAfterMs - fromMemory.retryAfterMs) <= 5000, at);
      assert.ok(Math.abs(fromRedis.resetMs - fromMemory.resetMs) <= 5000, at);
    }
  });

  test('a new connection loads the script once (EVAL), then EVALSHA: no NOSCRIPT round trips', async () => {
    await redis.cli('config', 'resetstat');
    const client = createRedisClient({ type: 'redis', url: redis.url, commandTimeoutMs: 5000 });
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const fresh = new RedisCounterStore(client, 'test:');
    try {
      // 50 decisions written in one event-loop turn (one write on the socket)
      const spec = { emissionMs: 1000, burst: 40 };
      const decisions = await Promise.all(Array.from({ length: 50 }, () => fresh.gcra('batch', spec, 1)));
      assert.equal(decisions.filter((d) => d.allowed).length, 40);
      const stats = await redis.cli('info', 'commandstats');
      const calls = (name: string): number =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      assert.equal(calls('eval'), 1);
      assert.equal(calls('evalsha'), 49);
      assert.doesNotMatch(await redis.cli('info', 'errorstats'), /NOSCRIPT/);
    } finally {
      await fresh.close();
    }
  });

  for (const role of ['commands', 'counters'] as const) {
    test(`a command not answered within commandTimeoutMs rejects with CounterStoreUnavailable (${role} client)`, async () => {
      const config = { type: 'redis' as const, url: redis.url, commandTimeoutMs: 50 };
      const client = createRedisClient(config, role);
      await new Promise<void>((resolve) => client.once('ready', () => resolve()));
      // the counters role: the store times its commands out (one deadline per event-loop turn)
      const slow = new RedisCounterStore(client, 'test:', true, role === 'counters' ? 50 : undefined);
      const spec = { emissionMs: 1000, burst: 5 };
      try {
        await slow.gcra(`paused-${role}`, spec, 1);
        assert.equal(await slow.count('none'), 0);
        await redis.cli('client', 'pause', '600');
        const started = Date.now();
        const outcomes = await Promise.allSettled([
          slow.gcra(`paused-${role}`, spec, 1),
          slow.gcra(`paused-${role}`, spec, 1),
          slow.count('paused'),
        ]);
        const elapsed = Date.now() - started;
        for (const outcome of outcomes) {
          assert.equal(outcome.status, 'rejected');
          assert.ok(outcome.reason instanceof CounterStoreUnavailable);
          assert.match(String((outcome.reason as Error).cause), /timed out/);
        }
        assert.ok(elapsed < 500, `${elapsed} ms`);
        // the answers that come after the pause are ignored; the next turn works again
        await new Promise((resolve) => setTimeout(resolve, 700));
        assert.equal((await slow.gcra(`paused-${role}`, spec, 1)).allowed, true);
      } finally {
        await slow.close();
      }
    });
  }
});
