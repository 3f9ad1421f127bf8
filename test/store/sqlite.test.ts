import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runStoreContract } from './contract.js';

runStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
  const path = join(dir, 'store.db');
  return {
    open: async () => new SqliteStore(path),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// better-sqlite3 12 on Node 24 aborts the process when the garbage collector destroys a
// statement outside any context, so the store must never leave statements to it: every
// statement is prepared once, cached and kept for the life of the process.
test('the store prepares each statement once: polling and repeated calls reuse them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
  const path = join(dir, 'store.db');
  const store = new SqliteStore(path, { pollIntervalMs: 5 });
  const writer = new SqliteStore(path);
  try {
    // Every statement better-sqlite3 creates (prepare(), and pragma() too) comes from the
    // native connection's prepare, which it keeps under a symbol-keyed property.
    const prepared: string[] = [];
    const native = Object.getOwnPropertySymbols(store.db)
      .map((symbol) => (store.db as unknown as Record<symbol, unknown>)[symbol])
      .find((value): value is { prepare: (...args: unknown[]) => unknown } => {
        return typeof (value as { prepare?: unknown } | null)?.prepare === 'function';
      });
    assert.ok(native !== undefined, "better-sqlite3's native connection");
    const prepare = native.prepare.bind(native);
    native.prepare = (...args: unknown[]) => {
      prepared.push(String(args[0]));
      return prepare(...args);
    };
    const changes: string[] = [];
    const unsubscribe = store.subscribe((change) => changes.push(change.kind));
    const round = async (name: string) => {
      const consumer = await writer.createConsumer({ name });
      await store.getConsumer(consumer.id);
      await store.getConsumerByName(name);
      await store.listConsumers();
      await new Promise((resolve) => setTimeout(resolve, 30)); // several polls
    };
    await round('first');
    const afterFirst = prepared.length;
    for (let i = 0; i < 5; i++) await round(`more-${i}`);
    unsubscribe();
    assert.ok(changes.length >= 6, `the polls saw the other connection's writes (${changes.length})`);
    assert.ok(afterFirst > 0, 'the first round prepared its statements');
    assert.deepEqual(prepared.slice(afterFirst), [], 'no statement prepared after the first round');
  } finally {
    await store.close();
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
});
