import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LastUsedRecorder } from '../../src/authn/last-used.js';
import type { CredentialStore } from '../../src/store/types.js';

describe('last-used recorder', () => {
  test('many uses become one batched write, not one write per request', async () => {
    const writes: string[][] = [];
    const store = {
      touchLastUsed: async (ids: readonly string[]) => void writes.push([...ids]),
    } as unknown as CredentialStore;
    const recorder = new LastUsedRecorder(store, 60_000);
    for (let i = 0; i < 1000; i++) recorder.record(i % 2 === 0 ? 'aaa' : 'bbb');
    assert.equal(writes.length, 0, 'nothing written on the request path');
    assert.equal(recorder.pendingCount, 2);
    await recorder.flush();
    assert.deepEqual(writes, [['aaa', 'bbb']]);
    await recorder.flush();
    assert.equal(writes.length, 1, 'an empty batch is not written');
    recorder.record('ccc');
    await recorder.close();
    assert.deepEqual(writes[1], ['ccc'], 'close flushes what is pending');
  });

  test('a failing store write is logged, not thrown', async () => {
    const store = {
      touchLastUsed: async () => Promise.reject(new Error('down')),
    } as unknown as CredentialStore;
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => void warnings.push(args) } as never;
    const recorder = new LastUsedRecorder(store, 60_000, logger);
    recorder.record('x');
    await recorder.flush();
    assert.equal(warnings.length, 1);
    await recorder.close();
  });
});
