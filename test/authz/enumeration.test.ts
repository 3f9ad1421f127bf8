import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnumerationTracker } from '../../src/authz/enumeration.js';

describe('enumeration tracker', () => {
  test('flags a caller past the distinct-id limit, once, for one window', () => {
    const t = new EnumerationTracker({ maxDistinctIds: 3, windowMs: 60_000 });
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) assert.equal(t.record('c:1', `/a/${i}`, now + i).crossed, false);
    assert.equal(t.record('c:1', '/a/1', now + 5).crossed, false, 'repeating an id is not enumerating');
    const crossed = t.record('c:1', '/a/9', now + 10);
    assert.equal(crossed.crossed, true);
    assert.equal(crossed.distinct, 4);
    assert.equal(t.record('c:1', '/a/10', now + 11).crossed, false, 'audited once per episode');
    assert.equal(t.blockedFor('c:1', now + 11), 60);
    assert.equal(t.blockedFor('c:2', now + 11), 0, 'other callers are not affected');
    assert.equal(t.blockedFor('c:1', now + 60_011), 0, 'the block ends with the window');
  });

  test('ids older than the window do not count', () => {
    const t = new EnumerationTracker({ maxDistinctIds: 2, windowMs: 1000 });
    t.record('x', '/1', 0);
    t.record('x', '/2', 500);
    assert.equal(t.record('x', '/3', 1200).crossed, false, '/1 expired');
    assert.equal(t.record('x', '/4', 1300).crossed, true);
  });

  test('memory is bounded by the caller limit', () => {
    const t = new EnumerationTracker({ maxDistinctIds: 1, windowMs: 1000, maxCallers: 2 });
    t.record('a', '/1', 0);
    t.record('a', '/2', 0);
    assert.ok(t.blockedFor('a', 1) > 0);
    t.record('b', '/1', 0);
    t.record('c', '/1', 0);
    assert.equal(t.blockedFor('a', 1), 0, 'the least recently seen caller was evicted');
  });
});
