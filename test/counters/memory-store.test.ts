import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LruMaps } from '../../src/counters/lru-map.js';
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

describe('memory keyspaces', () => {
  test('one keyspace per prefix, separate from the full-key counters', () => {
    const store = new MemoryCounterStore({ now: () => 0 });
    const spec = { emissionMs: 1000, burst: 1 };
    assert.equal(store.keyspace('rl:a:'), store.keyspace('rl:a:'));
    assert.equal(store.keyspace('rl:a:').gcra('x', spec, 1).allowed, true);
    // the same prefix again (a reload, or a shared limit on another route) sees the count
    assert.equal(store.keyspace('rl:a:').gcra('x', spec, 1).allowed, false);
    // other subjects, other prefixes and the full-key API are other counters
    assert.equal(store.keyspace('rl:a:').gcra('y', spec, 1).allowed, true);
    assert.equal(store.keyspace('rl:b:').gcra('x', spec, 1).allowed, true);
    assert.equal(store.gcra('rl:a:x', spec, 1).allowed, true);
  });

  test('all keyspaces share maxKeys; the least recently used entry goes first', () => {
    const store = new MemoryCounterStore({ maxKeys: 3, now: () => 0 });
    const spec = { emissionMs: 1000, burst: 1 };
    const a = store.keyspace('a:');
    const b = store.keyspace('b:');
    a.gcra('1', spec, 1);
    b.gcra('1', spec, 1);
    store.gcra('k', spec, 1);
    assert.equal(store.size, 3);
    assert.equal(a.gcra('1', spec, 1).allowed, false); // a:1 is used again: now the most recent
    b.gcra('2', spec, 1); // a fourth key drops the least recently used: b:1
    assert.equal(store.size, 3);
    assert.equal(b.gcra('1', spec, 1).allowed, true, 'b:1 was dropped');
    assert.equal(a.gcra('1', spec, 1).allowed, false, 'a:1 was kept');
  });

  test('an expired entry is never used: it reads as new and is reset when written again', () => {
    let now = 0;
    const store = new MemoryCounterStore({ now: () => now });
    const space = store.keyspace('s:');
    const spec = { emissionMs: 100, burst: 2 };
    assert.equal(space.gcra('k', spec, 1).remaining, 1);
    assert.equal(space.gcra('k', spec, 1).remaining, 0);
    assert.equal(space.gcra('k', spec, 1).allowed, false);
    now = 200; // the bucket has refilled: the entry has expired
    assert.equal(space.gcra('k', spec, 1).remaining, 1);
    const windowed = store.keyspace('w:');
    const window = { limit: 1, windowMs: 100 };
    assert.equal(windowed.slidingWindow('k', window, 1).allowed, true);
    assert.equal(windowed.slidingWindow('k', window, 1).allowed, false);
    now = 1000;
    assert.equal(windowed.slidingWindow('k', window, 1).allowed, true);
  });

  test('the default clock keeps sub-microsecond GCRA intervals (very high rates)', () => {
    const store = new MemoryCounterStore();
    // 100 million per second: next to an epoch timestamp this interval would round away
    const d = store.gcra('fast', { emissionMs: 1e-5, burst: 100_000_000 }, 1);
    assert.equal(d.allowed, true);
    assert.ok(d.resetMs > 0, String(d.resetMs));
    assert.ok(d.remaining < 100_000_000, String(d.remaining));
  });
});

describe('LruMaps', () => {
  test('bounded over several maps, get refreshes, delete and clear', () => {
    type N = { key: string; owner: Map<string, N>; prev: N | undefined; next: N | undefined };
    const lru = new LruMaps<N>(2);
    const m1 = lru.map();
    const m2 = lru.map();
    const node = (owner: Map<string, N>, key: string): N => ({
      key,
      owner,
      prev: undefined,
      next: undefined,
    });
    lru.add(node(m1, 'a'));
    lru.add(node(m2, 'a'));
    assert.ok(lru.get(m1, 'a'));
    lru.add(node(m2, 'b')); // drops m2:a, the least recently used
    assert.equal(lru.size, 2);
    assert.equal(m2.has('a'), false);
    assert.ok(m1.has('a') && m2.has('b'));
    lru.add(node(m2, 'b')); // replacing keeps the count
    assert.equal(lru.size, 2);
    lru.delete(m1, 'a');
    assert.equal(lru.size, 1);
    lru.add(node(m1, 'c'));
    lru.add(node(m1, 'd')); // drops m2:b
    assert.deepEqual([...m1.keys(), ...m2.keys()], ['c', 'd']);
    lru.clear();
    assert.equal(lru.size, 0);
    assert.equal(m1.size + m2.size, 0);
    assert.throws(() => new LruMaps(0), TypeError);
  });
});
