import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CounterStore } from '../../src/counters/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The contract every counter store passes. Periods are long (hours) so the outcome never depends
 * on how fast the test runs.
 */
export function counterStoreContract(name: string, open: () => Promise<CounterStore> | CounterStore): void {
  let seq = 0;
  const key = (k: string): string => `${name}:${process.pid}:${Date.now()}:${++seq}:${k}`;

  test(`${name}: gcra admits the burst, then refuses with a retry delay`, async () => {
    const store = await open();
    const k = key('gcra');
    const spec = { emissionMs: HOUR, burst: 5 };
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await store.gcra(k, spec, 1);
      assert.equal(d.allowed, true, `request ${i + 1}`);
      remaining.push(d.remaining);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const refused = await store.gcra(k, spec, 1);
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= HOUR, String(refused.retryAfterMs));
    assert.ok(refused.resetMs > 4 * HOUR && refused.resetMs <= 5 * HOUR);
    // a refusal consumes nothing; a different key is independent
    assert.equal((await store.gcra(k, spec, 1)).allowed, false);
    assert.equal((await store.gcra(key('other'), spec, 1)).allowed, true);
  });

  test(`${name}: gcra cost counts several units and never exceeds the burst`, async () => {
    const store = await open();
    const k = key('cost');
    const spec = { emissionMs: HOUR, burst: 10 };
    assert.equal((await store.gcra(k, spec, 7)).allowed, true);
    assert.equal((await store.gcra(k, spec, 4)).allowed, false);
    const d = await store.gcra(k, spec, 3);
    assert.equal(d.allowed, true);
    assert.equal(d.remaining, 0);
    assert.equal((await store.gcra(key('huge'), spec, 11)).allowed, false);
  });

  test(`${name}: sliding window admits the limit, then refuses`, async () => {
    const store = await open();
    const k = key('window');
    const spec = { limit: 3, windowMs: DAY };
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await store.slidingWindow(k, spec, 1));
    assert.deepEqual(
      results.map((r) => r.allowed),
      [true, true, true, false, false],
    );
    assert.deepEqual(
      results.slice(0, 3).map((r) => r.remaining),
      [2, 1, 0],
    );
    assert.ok((results[3]?.retryAfterMs ?? 0) > 0);
    assert.ok((results[3]?.resetMs ?? 0) > 0 && (results[3]?.resetMs ?? 0) <= DAY);
  });

  test(`${name}: reserve queues up to the burst with growing delays, then refuses`, async () => {
    const store = await open();
    const k = key('reserve');
    const spec = { emissionMs: HOUR, burst: 2, delayFree: 0 };
    const first = await store.reserve(k, spec);
    assert.deepEqual(first, { allowed: true, delayMs: 0, retryAfterMs: 0 });
    const second = await store.reserve(k, spec);
    assert.equal(second.allowed, true);
    assert.ok(second.delayMs > 0.99 * HOUR && second.delayMs <= HOUR);
    const third = await store.reserve(k, spec);
    assert.equal(third.allowed, true);
    assert.ok(third.delayMs > 1.99 * HOUR && third.delayMs <= 2 * HOUR);
    const fourth = await store.reserve(k, spec);
    assert.equal(fourth.allowed, false);
    assert.ok(fourth.retryAfterMs > 0 && fourth.retryAfterMs <= HOUR);
  });

  test(`${name}: reserve lets the first delayFree excess requests through without waiting`, async () => {
    const store = await open();
    const k = key('nodelay');
    const spec = { emissionMs: HOUR, burst: 3, delayFree: 2 };
    const delays = [];
    for (let i = 0; i < 4; i++) {
      const r = await store.reserve(k, spec);
      assert.equal(r.allowed, true);
      delays.push(r.delayMs);
    }
    assert.equal(delays[0], 0);
    assert.equal(delays[1], 0);
    assert.equal(delays[2], 0);
    assert.ok((delays[3] ?? 0) > 0.99 * HOUR);
    assert.equal((await store.reserve(k, spec)).allowed, false);
  });

  test(`${name}: increment counts up to the limit, refuses without counting, and resets`, async () => {
    const store = await open();
    const k = key('quota');
    assert.deepEqual(await store.increment(k, 2, 5, DAY), { allowed: true, count: 2 });
    assert.deepEqual(await store.increment(k, 3, 5, DAY), { allowed: true, count: 5 });
    assert.deepEqual(await store.increment(k, 1, 5, DAY), { allowed: false, count: 5 });
    assert.equal(await store.count(k), 5);
    await store.delete(k);
    assert.equal(await store.count(k), 0);
    assert.deepEqual(await store.increment(k, 1, 5, DAY), { allowed: true, count: 1 });
  });

  test(`${name}: concurrent decisions on one key never over-admit`, async () => {
    const store = await open();
    const k = key('race');
    const spec = { emissionMs: HOUR, burst: 50 };
    const decisions = await Promise.all(Array.from({ length: 200 }, () => store.gcra(k, spec, 1)));
    assert.equal(decisions.filter((d) => d.allowed).length, 50);
  });
}
