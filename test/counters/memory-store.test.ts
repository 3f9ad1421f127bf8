import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCounterStore } from '../../src/counters/memory-store.js';
import { counterStoreContract } from './contract.js';

describe('memory counter store contract', () => {
  counterStoreContract('memory', () => new MemoryCounterStore());
});

describe('memory counter store', () => {
  test('gcra is exact over a simulated run: burst + elapsed / interval', () => {
    let now = 1_000_000;
    const store = new MemoryCounterStore({ now: () => now });
    const spec = { emissionMs: 50, burst: 10 }; // 20/s, burst 10
    let admitted = 0;
    // 10 000 attempts spread over 10 s (one every ms)
    for (let i = 0; i < 10_000; i++) {
      if (store.gcra('k', spec, 1).allowed) admitted++;
      now += 1;
    }
    // 10 at once, then one every 50 ms for 10 s (the first interval overlaps the burst)
    assert.equal(admitted, 10 + Math.floor(9_999 / 50));
  });

  test('a refused request is admitted exactly when retryAfterMs has passed', () => {
    let now = 0;
    const store = new MemoryCounterStore({ now: () => now });
    const spec = { emissionMs: 1000 / 3, burst: 3 };
    for (let i = 0; i < 3; i++) assert.equal(store.gcra('k', spec, 1).allowed, true);
    const refused = store.gcra('k', spec, 1);
    assert.equal(refused.allowed, false);
    now += refused.retryAfterMs - 0.001;
    assert.equal(store.gcra('k', spec, 1).allowed, false);
    now += 0.001;
    assert.equal(store.gcra('k', spec, 1).allowed, true);
  });

  test('sliding window weights the previous window', () => {
    let now = 0;
    const store = new MemoryCounterStore({ now: () => now });
    const spec = { limit: 10, windowMs: 1000 };
    for (let i = 0; i < 10; i++) assert.equal(store.slidingWindow('k', spec, 1).allowed, true);
    assert.equal(store.slidingWindow('k', spec, 1).allowed, false);
    now = 1500; // half of the previous window still counts: 5 used
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (store.slidingWindow('k', spec, 1).allowed) admitted++;
    assert.equal(admitted, 5);
    now = 3000; // two windows later everything is forgotten
    assert.equal(store.slidingWindow('k', spec, 1).remaining, 9);
  });

  test('entries expire and the map stays bounded', () => {
    let now = 0;
    const store = new MemoryCounterStore({ maxKeys: 100, now: () => now });
    for (let i = 0; i < 1000; i++) store.gcra(`k${i}`, { emissionMs: 10, burst: 1 }, 1);
    assert.equal(store.size, 100);
    assert.equal(store.gcra('k999', { emissionMs: 10, burst: 1 }, 1).allowed, false);
    now = 10;
    assert.equal(store.gcra('k999', { emissionMs: 10, burst: 1 }, 1).allowed, true);
    assert.deepEqual(store.increment('q', 1, 1, 100), { allowed: true, count: 1 });
    now = 110;
    assert.equal(store.count('q'), 0);
  });
});
