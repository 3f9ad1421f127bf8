import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { run as keysCli } from '../../../src/cli/commands/keys.js';
import { run as consumersCli } from '../../../src/cli/commands/consumers.js';
import { startUpstream } from '../../helpers/upstream.js';
import { createTestDatabase } from '../../store/pg-harness.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ADMIN_TOKEN = randomBytes(32).toString('base64url');

interface Node {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
}

/** Starts `portcullis start --config file` as its own process and waits for its addresses. */
function startNode(configFile: string): Promise<Node> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'start', '--config', configFile],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolvePromise, reject) => {
    let url: string | undefined;
    let adminUrl: string | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start in time: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${String(code)}: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as { msg?: string; url?: string };
      } catch {
        return;
      }
      if (entry.msg === 'listening') url = entry.url;
      if (entry.msg === 'admin listening') adminUrl = entry.url;
      if (url !== undefined && adminUrl !== undefined) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise({ child, url, adminUrl });
      }
    });
  });
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (node === undefined || node.child.exitCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGTERM');
  await Promise.race([exited, sleep(2000).then(() => node.child.kill('SIGKILL'))]);
}

async function cli(command: typeof keysCli, args: string[]): Promise<unknown> {
  let out = '';
  let err = '';
  const code = await command([...args, '--json'], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
  });
  assert.equal(code, 0, err);
  return JSON.parse(out) as unknown;
}

/** Milliseconds until `url` answers 401 for `key` (polling every 20 ms), or throws after `limitMs`. */
async function timeUntilRefused(url: string, key: string, limitMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const response = await fetch(url + '/orders', { headers: { 'x-api-key': key } });
    await response.arrayBuffer();
    if (response.status === 401) return Date.now() - start;
    assert.equal(response.status, 200);
    if (Date.now() - start > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
    await sleep(20);
  }
}

async function scenario(store: Record<string, unknown>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pcs-two-nodes-'));
  const upstream = await startUpstream();
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    const configFile = join(dir, 'portcullis.yaml');
    await writeFile(
      configFile,
      stringify({
        version: 1,
        listeners: [{ host: '127.0.0.1', port: 0 }],
        admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
        logging: { level: 'info', accessLog: false },
        limits: { shutdownTimeoutMs: 500 },
        store,
        secrets: { kek: { provider: 'file', path: 'kek.key' } },
        upstreams: { echo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'orders',
            match: { pathPrefix: '/orders' },
            upstream: 'echo',
            authentication: { anyOf: ['api_key'] },
            authorization: { roles: { reader: { permissions: ['*'] } } },
          },
        ],
      }),
    );
    [a, b] = await Promise.all([startNode(configFile), startNode(configFile)]);
    await cli(consumersCli, ['create', 'two-nodes', '--roles', 'reader', '--config', configFile]);
    const first = (await cli(keysCli, ['create', 'two-nodes', '--config', configFile])) as {
      key: string;
      record: { lookupId: string };
    };
    const second = (await cli(keysCli, ['create', 'two-nodes', '--config', configFile])) as {
      key: string;
      record: { lookupId: string };
    };
    for (const node of [a, b]) {
      for (const { key } of [first, second]) {
        const response = await fetch(node.url + '/orders', { headers: { 'x-api-key': key } });
        assert.equal(response.status, 200, 'key accepted (and now cached) on both nodes');
      }
    }

    // Revoked through the admin API of node A: node B refuses it within 1 s.
    const revoked = await fetch(`${a.adminUrl}/admin/keys/${first.record.lookupId}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(revoked.status, 200);
    const onB = await timeUntilRefused(b.url, first.key, 1000);
    assert.ok(onB <= 1000, `node B refused after ${onB} ms`);

    // Revoked with the CLI (a third process on the same store): both nodes refuse it within 1 s.
    await cli(keysCli, ['revoke', second.record.lookupId, '--config', configFile]);
    const [onA2, onB2] = await Promise.all([
      timeUntilRefused(a.url, second.key, 1000),
      timeUntilRefused(b.url, second.key, 1000),
    ]);
    assert.ok(onA2 <= 1000 && onB2 <= 1000, `refused after ${onA2} / ${onB2} ms`);
  } finally {
    await Promise.all([stopNode(a), stopNode(b)]);
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('revocation seen by a second gateway process within 1 s', { timeout: 60_000 }, () => {
  test('two processes sharing one SQLite file', async () => {
    await scenario({ type: 'sqlite', path: 'store.db' });
  });

  test('two processes sharing one PostgreSQL database', async () => {
    const db = await createTestDatabase();
    try {
      await scenario({ type: 'postgres', url: db.url });
    } finally {
      await db.drop();
    }
  });
});
