import { test } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres.js';
import { StoreError } from '../../src/store/errors.js';
import { runStoreContract, waitForEvent } from './contract.js';
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
  const stores: PostgresStore[] = [];
  try {
    stores.push(
      ...(await Promise.all([PostgresStore.open({ url: db.url }), PostgresStore.open({ url: db.url })])),
    );
    await stores[0]?.createConsumer({ name: 'x' });
    assert.equal((await stores[1]?.getConsumerByName('x'))?.name, 'x');
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  }
});

test('postgres: an unreachable server is a StoreError(unavailable)', async () => {
  await assert.rejects(
    PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/none' }),
    (error: unknown) => error instanceof StoreError && error.code === 'unavailable',
  );
});

test('postgres: the change feed reconnects after its connection is killed and says what may be missed', async () => {
  const db = await createTestDatabase();
  const a = await PostgresStore.open({ url: db.url });
  const b = await PostgresStore.open({ url: db.url });
  try {
    const flushed = waitForEvent(b, (e) => e.kind === 'api_key' && e.id === '*', 10_000);
    await b.whenListening();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      assert.equal(killed.rowCount, 2, 'both nodes listen from open()');
    } finally {
      await admin.end();
    }
    await flushed.promise;
    await b.whenListening();
    const after = waitForEvent(b, (e) => e.kind === 'consumer' && e.id === 'after-reconnect');
    await a.createConsumer({ id: 'after-reconnect', name: 'after-reconnect' });
    await after.promise;
  } finally {
    await a.close();
    await b.close();
    await db.drop();
  }
});
