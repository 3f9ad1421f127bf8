import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ApiKeyDirectory } from '../../src/authn/api-key-directory.js';
import { generateApiKey } from '../../src/authn/api-key-format.js';
import { createApiKeyAuthenticator } from '../../src/authn/api-key-authenticator.js';
import { AuthenticationFailure } from '../../src/authn/authenticator.js';
import { fakeContext } from './request-context.js';

async function waitFor(check: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(20);
  }
  return Date.now() - start;
}

describe('API key directory (cache in front of the store)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pcs-dir-'));
  const file = join(dir, 'store.db');
  const nodeA = new SqliteStore(file, { pollIntervalMs: 100 });
  const nodeB = new SqliteStore(file, { pollIntervalMs: 100 });
  after(async () => {
    await nodeA.close();
    await nodeB.close();
    await rm(dir, { recursive: true, force: true });
  });

  const consumer = await nodeA.createConsumer({ name: 'shop', roles: ['reader'], tenant: 't1' });

  test('serves look-ups from memory once loaded, one store trip for concurrent callers', async () => {
    const directory = new ApiKeyDirectory(nodeB, { max: 100 });
    try {
      const { lookupId } = generateApiKey('pcs');
      await nodeA.createApiKey({
        lookupId,
        consumerId: consumer.id,
        keyHash: Buffer.alloc(32, 1),
        scopes: ['a'],
      });
      const first = directory.get(lookupId);
      const second = directory.get(lookupId);
      assert.ok(first instanceof Promise);
      assert.equal(first, second, 'concurrent callers share one load');
      const entry = await first;
      assert.equal(entry?.identity.subject, 'shop');
      assert.equal(entry?.identity.tenant, 't1');
      const cached = directory.get(lookupId);
      assert.ok(!(cached instanceof Promise) && cached !== undefined, 'second look-up is synchronous');
    } finally {
      directory.close();
    }
  });

  test('a revocation on another process invalidates the cached entry within 1 s', async () => {
    const directory = new ApiKeyDirectory(nodeB, { max: 100 });
    try {
      const { lookupId } = generateApiKey('pcs');
      await nodeA.createApiKey({ lookupId, consumerId: consumer.id, keyHash: Buffer.alloc(32, 2) });
      await directory.get(lookupId);
      await nodeA.updateApiKey(lookupId, { revokedAt: Date.now() });
      // The cached entry is gone once `get` has to go back to the store (returns a Promise).
      const elapsed = await waitFor(() => directory.get(lookupId) instanceof Promise, 1000);
      assert.ok(elapsed <= 1000);
      const reloaded = await directory.get(lookupId);
      assert.notEqual(reloaded?.record.revokedAt, null);
    } finally {
      directory.close();
    }
  });

  test('unknown ids are cached negatively but a creation elsewhere clears that', async () => {
    const directory = new ApiKeyDirectory(nodeB, { max: 100, missingTtlMs: 60_000 });
    try {
      const { lookupId } = generateApiKey('pcs');
      assert.equal(await directory.get(lookupId), undefined);
      assert.equal(directory.get(lookupId), undefined, 'negative entry served synchronously');
      await nodeA.createApiKey({ lookupId, consumerId: consumer.id, keyHash: Buffer.alloc(32, 3) });
      await waitFor(() => directory.get(lookupId) instanceof Promise, 1000);
      assert.equal((await directory.get(lookupId))?.record.lookupId, lookupId);
    } finally {
      directory.close();
    }
  });

  test('disabling the consumer elsewhere drops its keys from the cache', async () => {
    const owner = await nodeA.createConsumer({ name: 'to-disable' });
    const directory = new ApiKeyDirectory(nodeB, { max: 100 });
    try {
      const { lookupId } = generateApiKey('pcs');
      await nodeA.createApiKey({ lookupId, consumerId: owner.id, keyHash: Buffer.alloc(32, 4) });
      assert.equal((await directory.get(lookupId))?.consumer?.disabled, false);
      await nodeA.updateConsumer(owner.id, { disabled: true });
      await waitFor(() => directory.get(lookupId) instanceof Promise, 1000);
      assert.equal((await directory.get(lookupId))?.consumer?.disabled, true);
    } finally {
      directory.close();
    }
  });

  test('the cache is bounded', async () => {
    const directory = new ApiKeyDirectory(nodeB, { max: 3 });
    try {
      for (let i = 0; i < 10; i++) await directory.get(generateApiKey('pcs').lookupId);
      assert.equal(directory.size, 3);
    } finally {
      directory.close();
    }
  });

  test('a key the authenticator remembers is refused within 1 s of a revocation elsewhere', async () => {
    const pepper = randomBytes(32);
    const hash = (key: string) => createHmac('sha256', pepper).update(key).digest();
    const directory = new ApiKeyDirectory(nodeB, { max: 100 });
    const authenticator = createApiKeyAuthenticator(
      { directory, hash, touch: () => {} },
      { header: 'x-api-key', queryParam: 'api_key' },
      { inQuery: false },
    );
    /** Undefined when accepted, else the refusal reason (awaiting a store trip when there is one). */
    const outcome = async (key: string): Promise<string | undefined> => {
      try {
        const identity = await authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }));
        assert.ok(identity !== undefined);
        return undefined;
      } catch (error) {
        assert.ok(error instanceof AuthenticationFailure);
        return error.reason;
      }
    };
    try {
      const { key, lookupId } = generateApiKey('pcs');
      await nodeA.createApiKey({ lookupId, consumerId: consumer.id, keyHash: hash(key) });
      assert.equal(await outcome(key), undefined, 'first use: store trip and HMAC');
      const sync = authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }));
      assert.ok(sync !== undefined && !(sync instanceof Promise), 'then served from memory');
      await nodeA.updateApiKey(lookupId, { revokedAt: Date.now() });
      const start = Date.now();
      let reason: string | undefined;
      while ((reason = await outcome(key)) === undefined) {
        assert.ok(Date.now() - start <= 1000, 'still accepted 1 s after the revocation');
        await sleep(10);
      }
      assert.equal(reason, 'api_key_revoked');
    } finally {
      directory.close();
    }
  });
});
