import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId, newTraceparent } from '../../src/pipeline/ids.js';

test('request ids are distinct version 4 UUIDs across many entropy refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});

test('traceparents are W3C version 00, sampled, with distinct non-zero ids', () => {
  const traces = new Set<string>();
  const parents = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const tp = newTraceparent();
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(tp);
    assert.ok(m, tp);
    assert.notEqual(m[1], '0'.repeat(32));
    assert.notEqual(m[2], '0'.repeat(16));
    traces.add(m[1]!);
    parents.add(m[2]!);
  }
  assert.equal(traces.size, 3000);
  assert.equal(parents.size, 3000);
});

test('ids interleaved from both generators never repeat each other', () => {
  const all = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    all.add(newRequestId().replaceAll('-', '').slice(0, 12));
    all.add(newTraceparent().slice(3, 15));
  }
  assert.equal(all.size, 4000);
});
