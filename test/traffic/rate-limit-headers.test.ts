import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateItemFormatter, retryAfterSeconds, stateItem } from '../../src/traffic/rate-limit-headers.js';

test('seconds round up, but float residue below a microsecond does not add one', () => {
  const now = 14_951.018311418919; // a monotonic clock reading
  const resetMs = now + 12_000 - now; // 12000.000000000002
  assert.notEqual(resetMs, 12_000);
  assert.equal(stateItem('"a"', 2, resetMs), '"a";r=2;t=12');
  assert.equal(retryAfterSeconds(resetMs), '12');
  assert.equal(retryAfterSeconds(12_000.01), '13');
  assert.equal(retryAfterSeconds(0.2), '1');
  assert.equal(stateItem('"a"', -1, 0), '"a";r=0;t=0');
});

test('the remembered item changes with its inputs, never stale', () => {
  const f = new StateItemFormatter('"p"');
  assert.equal(f.format(5, 1000), '"p";r=5;t=1');
  assert.equal(f.format(5, 1000), '"p";r=5;t=1');
  assert.equal(f.format(4, 1000), '"p";r=4;t=1');
  assert.equal(f.format(4, 2500), '"p";r=4;t=3');
  assert.equal(f.format(0, 0), '"p";r=0;t=0');
});
