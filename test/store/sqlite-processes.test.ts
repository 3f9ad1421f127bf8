import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitForEvent } from './contract.js';

const WRITER = new URL('./fixtures/sqlite-writer.ts', import.meta.url).pathname;

const children = new Set<ReturnType<typeof spawn>>();

function startWriter(path: string, mode: 'once' | 'loop', prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, mode, prefix], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, lines, exited, stderr: () => stderr };
}

describe('sqlite store shared by several processes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-sqlite-proc-'));
  });
  after(async () => {
    // never leave a writer running when a test failed half-way
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('a change written by another process reaches subscribers within 1 s', async () => {
    const path = join(dir, 'feed.db');
    const store = new SqliteStore(path);
    try {
      const consumerSeen = waitForEvent(
        store,
        (e) => e.kind === 'consumer' && e.id === 'child-consumer',
        30_000,
      );
      const tokenSeen = waitForEvent(store, (e) => e.kind === 'token' && e.id === 'child-jti', 30_000);
      const writer = startWriter(path, 'once', 'child');
      assert.equal(await writer.exited, 0, writer.stderr());
      assert.deepEqual(writer.lines, ['done']);
      // The child has committed and exited: from here the 1 s budget applies.
      const deadline = waitForEvent(store, (e) => e.kind === 'token' && e.id === 'child-jti', 1000);
      await Promise.race([tokenSeen.promise, deadline.promise]);
      deadline.cancel();
      await consumerSeen.promise;
      assert.equal(await store.isTokenRevoked('child-jti'), true);
    } finally {
      await store.close();
    }
  });

  test('SIGKILL during writes never corrupts the file or loses an acknowledged write', async () => {
    const path = join(dir, 'crash.db');
    await new SqliteStore(path).close();
    const acknowledged: string[] = [];
    for (let round = 0; round < 4; round++) {
      const writer = startWriter(path, 'loop', `r${round}`);
      // let it commit some records, then kill it mid-write
      for (let i = 0; writer.lines.length < 20 + round * 7; i++) {
        if (writer.child.exitCode !== null) assert.fail(`writer exited early: ${writer.stderr()}`);
        if (i > 6000) assert.fail('writer made no progress');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      writer.child.kill('SIGKILL');
      await writer.exited;
      acknowledged.push(...writer.lines.filter((l) => l !== ''));

      const db = new Database(path);
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const consumers = new Set(
          (db.prepare('SELECT id FROM consumers').all() as { id: string }[]).map((r) => r.id),
        );
        const secrets = new Set(
          (db.prepare('SELECT name FROM secrets').all() as { name: string }[]).map((r) => r.name),
        );
        for (const id of acknowledged) {
          assert.ok(consumers.has(id), `acknowledged consumer ${id} is missing after kill -9`);
          assert.ok(secrets.has(id), `acknowledged secret ${id} is missing after kill -9`);
        }
      } finally {
        db.close();
      }
    }
    assert.ok(acknowledged.length >= 4 * 20);
  });

  test('an online backup taken while another process writes is consistent', async () => {
    const path = join(dir, 'live.db');
    await new SqliteStore(path).close();
    const writer = startWriter(path, 'loop', 'live');
    try {
      for (let i = 0; writer.lines.length < 10; i++) {
        if (writer.child.exitCode !== null) assert.fail(`writer exited early: ${writer.stderr()}`);
        if (i > 6000) assert.fail('writer made no progress');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const acknowledged = [...writer.lines];
      const store = new SqliteStore(path);
      const target = join(dir, 'live-backup.db');
      try {
        await store.backup(target);
      } finally {
        await store.close();
      }
      const copy = new Database(target, { readonly: true });
      try {
        assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
        const ids = new Set(
          (copy.prepare('SELECT id FROM consumers').all() as { id: string }[]).map((r) => r.id),
        );
        for (const id of acknowledged.filter((l) => l !== '')) assert.ok(ids.has(id), `backup lacks ${id}`);
      } finally {
        copy.close();
      }
    } finally {
      writer.child.kill('SIGKILL');
      await writer.exited;
    }
  });
});
