import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssertionReplayGuard } from '../../src/oauth/assertion-replay.js';
import { SqliteStore } from '../../src/store/sqlite.js';

test('a private_key_jwt assertion presented to two gateway nodes at once is accepted by one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-replay-'));
  const a = new SqliteStore(join(dir, 'store.db'));
  const b = new SqliteStore(join(dir, 'store.db'));
  t.after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const nodeA = new AssertionReplayGuard(a);
  const nodeB = new AssertionReplayGuard(b);
  const expires = Date.now() + 60_000;
  for (let i = 0; i < 20; i++) {
    // the replay: both nodes see the same (client, jti) before either has recorded it
    const results = await Promise.all([
      nodeA.firstUse('svc', `jti-${i}`, expires),
      nodeB.firstUse('svc', `jti-${i}`, expires),
    ]);
    assert.equal(results.filter(Boolean).length, 1, `jti-${i}: ${results.join(',')}`);
    assert.equal(await nodeA.firstUse('svc', `jti-${i}`, expires), false, 'a later replay on A');
    assert.equal(await nodeB.firstUse('svc', `jti-${i}`, expires), false, 'a later replay on B');
  }
  // the same jti from another client is another assertion
  assert.equal(await nodeB.firstUse('other', 'jti-0', expires), true);
});
