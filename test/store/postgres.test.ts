import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres.js';
import { StoreError } from '../../src/store/errors.js';
import { runStoreContract } from './contract.js';
import { createTestDatabase } from './pg-harness.js';

runStoreContract(
  'postgres',
  async () => {
    const db = await createTestDatabase();
    return {
      open: () => PostgresStore.open({ url: db.url, poolSize: 4 }),
      cleanup: db.drop,
    };
  },
  { afterSubscribe: (store) => (store as PostgresStore).whenListening() },
);

test('postgres: two nodes migrating the same fresh database at once both succeed', async () => {
  const db = await createTestDatabase();
  try {
    const stores = await Promise.all([
      PostgresStore.open({ url: db.url }),
      PostgresStore.open({ url: db.url }),
    ]);
    await stores[0].createConsumer({ name: 'x' });
    assert.equal((await stores[1].getConsumerByName('x'))?.name, 'x');
    await Promise.all(stores.map((s) => s.close()));
  } finally {
    await db.drop();
  }
});

test('postgres: an unreachable server is a StoreError(unavailable)', async () => {
  await assert.rejects(
    PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/none' }),
    (error: unknown) => error instanceof StoreError && error.code === 'unavailable',
  );
});
