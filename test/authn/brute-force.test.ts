import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { applyBlock, BruteForceGuard, createBruteForceState } from '../../src/authn/brute-force.js';
import { shareBlocks } from '../../src/authn/brute-force-sharing.js';
import { InProcessEventChannel } from '../../src/events/in-process-channel.js';

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
    assert.deepEqual(g.recordFailure('ip', '1.2.3.4'), { delayMs: 250, blocked: true, until: 300_000 });
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 300);
    assert.equal(g.blockedSeconds('ip', '5.6.7.8'), 0, 'other addresses unaffected');
    assert.equal(g.blockedSeconds('key', '1.2.3.4'), 0, 'subjects are separate');
    advance(299_000);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 1);
    advance(1_000);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0);
  });

  test('blocks are seen whatever the shortcut for "nothing blocked" (local, shared, after an earlier block ended)', () => {
    let now = 1_000;
    const state = createBruteForceState();
    const settings = { maxFailures: 2, windowSec: 60, blockSec: 10, delayMs: 0 };
    const g = new BruteForceGuard(settings, state, () => now);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0);
    g.recordFailure('ip', '1.2.3.4');
    g.recordFailure('ip', '1.2.3.4');
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 10);
    now += 10_000;
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0, 'ended');
    // Applied from another node (the sharing channel writes the state directly).
    applyBlock(state, 'key', 'abcdefghijk', now + 5_000);
    assert.equal(g.blockedSeconds('key', 'abcdefghijk'), 5);
    assert.equal(g.blockedSeconds('ip', '1.2.3.4'), 0, 'other subjects still free');
    // A second guard on the same state (a reload) sees the same blocks.
    const reloaded = new BruteForceGuard(settings, state, () => now);
    assert.equal(reloaded.blockedSeconds('key', 'abcdefghijk'), 5);
    // A shorter block applied later does not hide the longer one.
    applyBlock(state, 'ip', '5.6.7.8', now + 1_000);
    now += 2_000;
    assert.equal(g.blockedSeconds('key', 'abcdefghijk'), 3);
    assert.equal(g.blockedSeconds('ip', '5.6.7.8'), 0);
  });

  test('the window resets the count', () => {
    const { g, advance } = guard();
    for (let i = 0; i < 3; i++) g.recordFailure('key', 'abc');
    advance(60_000);
    assert.deepEqual(g.recordFailure('key', 'abc'), { delayMs: 0, blocked: false });
    assert.equal(g.blockedSeconds('key', 'abc'), 0);
  });
});

describe('brute-force blocks shared between nodes', () => {
  test('a block decided on one node is applied on another through the event channel', async () => {
    const channel = new InProcessEventChannel();
    const logger = pino({ level: 'silent' });
    const stateA = createBruteForceState();
    const stateB = createBruteForceState();
    const settings = { maxFailures: 2, windowSec: 60, blockSec: 60, delayMs: 0 };
    const nodeA = new BruteForceGuard(settings, stateA);
    const nodeB = new BruteForceGuard(settings, stateB);
    const sharingA = shareBlocks(channel, stateA, logger);
    const sharingB = shareBlocks(channel, stateB, logger);
    nodeA.recordFailure('key', 'abcdefghijk');
    const verdict = nodeA.recordFailure('key', 'abcdefghijk');
    assert.equal(verdict.blocked, true);
    assert.equal(nodeB.blockedSeconds('key', 'abcdefghijk'), 0);
    sharingA.publish('key', 'abcdefghijk', verdict.until ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(nodeB.blockedSeconds('key', 'abcdefghijk') > 50, 'node B now refuses the key id too');

    // hostile or malformed events are ignored
    await channel.publish('authn.blocked', { subject: 'ip', id: 'x'.repeat(500), until: Date.now() + 1000 });
    await channel.publish('authn.blocked', { subject: 'root', id: '1.2.3.4', until: Date.now() + 1000 });
    await channel.publish('authn.blocked', { subject: 'ip', id: '5.6.7.8', until: Number.MAX_SAFE_INTEGER });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(nodeB.blockedSeconds('ip', '1.2.3.4'), 0);
    assert.ok(nodeB.blockedSeconds('ip', '5.6.7.8') <= 86_400, 'blocks from events are capped at one day');
    sharingA.close();
    sharingB.close();
  });
});
