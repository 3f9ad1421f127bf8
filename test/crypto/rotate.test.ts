import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyringError } from '../../src/crypto/errors.js';
import { hashCredential } from '../../src/crypto/hash.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { rotateKek } from '../../src/crypto/rotate.js';
import { readSecret, setSecret } from '../../src/crypto/secrets.js';
import { SigningKeys } from '../../src/crypto/signing-keys.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { CredentialStore } from '../../src/store/types.js';
import { createTestDatabase } from '../store/pg-harness.js';
import { tempDir, writeKekFile } from './helpers.js';

const harnesses: [
  string,
  (dir: string) => Promise<{ open: () => Promise<CredentialStore>; drop: () => Promise<void> }>,
][] = [
  [
    'sqlite',
    async (dir) => ({ open: async () => new SqliteStore(join(dir, 'store.db')), drop: async () => {} }),
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      return { open: () => PostgresStore.open({ url: db.url, poolSize: 4 }), drop: db.drop };
    },
  ],
];

for (const [name, makeHarness] of harnesses) {
  describe(`KEK rotation (${name})`, () => {
    test('re-wraps every data key online while reads and writes continue; then v1 retires', async () => {
      const dir = await tempDir();
      const harness = await makeHarness(dir);
      const store = await harness.open();
      try {
        const v1 = await writeKekFile(dir, 'kek-v1.key');
        const v2 = await writeKekFile(dir, 'kek-v2.key');
        const old = await openKeyring({
          config: { kek: { provider: 'file', path: v1 } },
          configDir: dir,
          store,
        });
        const expected = new Map<string, string>();
        for (let i = 0; i < 120; i++) {
          const value = `value-${i}-${'x'.repeat(i % 7)}`;
          await setSecret(old, store, `s${i}`, value);
          expected.set(`s${i}`, value);
        }
        const signing = new SigningKeys(old, store, { alg: 'ES256' });
        const signer = await signing.current();
        signing.close();
        const apiKeyHash = hashCredential(old, 'pcs_test_key');

        // the gateway reloads with v2 current and v1 previous, then rotation runs
        const keyring = await openKeyring({
          config: {
            kek: { provider: 'file', path: v2, version: 2 },
            previous: [{ provider: 'file', path: v1, version: 1 }],
          },
          configDir: dir,
          store,
        });
        let rotating = true;
        let reads = 0;
        const reader = (async () => {
          let i = 0;
          while (rotating) {
            const key = `s${i++ % 120}`;
            assert.equal(await readSecret(keyring, store, key), expected.get(key));
            reads++;
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        const writer = (async () => {
          let i = 0;
          while (rotating) {
            const key = `new-${i++}`;
            await setSecret(keyring, store, key, `written-during-rotation-${i}`);
            expected.set(key, `written-during-rotation-${i}`);
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        const batches: number[] = [];
        const result = await rotateKek(keyring, store, { batchSize: 10, onBatch: (n) => batches.push(n) });
        rotating = false;
        await Promise.all([reader, writer]);

        assert.ok(reads > 0, 'reads ran during rotation');
        assert.ok(batches.length > 1, 'rotation ran in several batches');
        assert.equal(result.usage.get(1) ?? 0, 0);
        assert.deepEqual(result.retirable, [1]);

        // v1 can now be removed from config: everything opens with v2 alone
        const onlyV2 = await openKeyring({
          config: { kek: { provider: 'file', path: v2, version: 2 } },
          configDir: dir,
          store,
        });
        for (const [key, value] of expected) assert.equal(await readSecret(onlyV2, store, key), value);
        assert.ok(
          hashCredential(onlyV2, 'pcs_test_key').equals(apiKeyHash),
          'API key hashes survive KEK rotation',
        );
        const after = new SigningKeys(onlyV2, store, { alg: 'ES256' });
        assert.equal((await after.current()).kid, signer.kid, 'the signing key survives KEK rotation');
        after.close();
        // a second run has nothing to do
        assert.equal((await rotateKek(onlyV2, store)).rewrapped, 0);
        // a node still configured with the retired version as current cannot start
        await assert.rejects(
          openKeyring({ config: { kek: { provider: 'file', path: v1 } }, configDir: dir, store }),
          (error: unknown) => error instanceof KeyringError && error.code === 'kek_retired',
        );
      } finally {
        await store.close();
        await harness.drop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
