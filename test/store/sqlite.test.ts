import { mkdtemp, rm } from 'node:fs/promises';
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
