import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BruteForceGuard, createBruteForceState } from '../../src/authn/brute-force.js';

function guard() {
  let now = 0;
  const g = new BruteForceGuard(
    { maxFailures: 4, windowSec: 60, blockSec: 300, delayMs: 250 },
    createBruteForceState(),
    () => now,
  );
  return { g, advance: (ms: number) => (now += ms) };
}

describe('brute-force guard', () => {
  test('failures slow down past half the limit, then block for blockSec', () => {
    const { g, advance } = guard();
    assert.deepEqual(g.recordFailure('ip', '1.2.3.4'), { delayMs: 0, blocked: false });
    assert.deepEqual(g.recordFailure('ip', '1.2.3.4'), { delayMs: 250, blocked: false });
    assert.deepEqual(g.recordFailure('ip', '1.2.3.4'), { delayMs: 250, blocked: false });
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0);
    assert.deepEqual(g.recordFailure('ip', '1.2.3.4'), { delayMs: 250, blocked: true });
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 300);
    assert.equal(g.blockedSeconds('ip', '5.6.7.8'), 0, 'other addresses unaffected');
    assert.equal(g.blockedSeconds('key', '1.2.3.4'), 0, 'subjects are separate');
    advance(299_000);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 1);
    advance(1_000);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0);
  });

  test('the window resets the count', () => {
    const { g, advance } = guard();
    for (let i = 0; i < 3; i++) g.recordFailure('key', 'abc');
    advance(60_000);
    assert.deepEqual(g.recordFailure('key', 'abc'), { delayMs: 0, blocked: false });
    assert.equal(g.blockedSeconds('key', 'abc'), 0);
  });
});
