import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { freePort, runCli, spawnGateway } from '../helpers/process.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

function config(upstreamUrl: string, port: number, extra: Record<string, unknown> = {}) {
  return stringify({
    version: 1,
    listeners: [{ host: '127.0.0.1', port }],
    upstreams: { u: { targets: [{ url: upstreamUrl }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    ...extra,
  });
}

describe('portcullis validate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('exits 0 on a valid file and warns about public routes', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, config('http://127.0.0.1:9', 0));
    const { code, stdout, stderr } = await runCli(['validate', file]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /valid \(1 routes/);
    assert.match(stderr, /warning: .*ok\.yaml:\d+:\d+: \/routes\/0.*public/);
  });

  test('exits 1 and names file, line, pointer and expectation on errors', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, config('http://127.0.0.1:9', 0).replace('port: 0', 'port: -5'));
    const { code, stderr } = await runCli(['validate', file]);
    assert.equal(code, 1);
    assert.match(stderr, /bad\.yaml:4:\d+: \/listeners\/0\/port: .*>= 0/);
  });

  test('--json reports errors as data', async () => {
    const file = join(dir, 'bad2.yaml');
    await writeFile(file, config('http://127.0.0.1:9', 0) + 'bogus: true\n');
    const { code, stdout } = await runCli(['validate', file, '--json']);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { valid: boolean; errors: { pointer: string }[] };
    assert.equal(report.valid, false);
    assert.ok(report.errors.some((e) => e.pointer === '/bogus'));
  });
});

describe('portcullis start', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let slow: TestUpstream;
  let dir: string;
  before(async () => {
    a = await startUpstream((_req, res) => res.end(`a:${process.pid}`));
    b = await startUpstream((_req, res) => res.end('b'));
    slow = await startUpstream((_req, res) => void setTimeout(() => res.end('slow-done'), 800));
    dir = await mkdtemp(join(tmpdir(), 'portcullis-start-'));
  });
  after(async () => {
    await Promise.all([a.close(), b.close(), slow.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('reloads on file change and on SIGHUP; a bad file keeps the old config; SIGTERM drains', async () => {
    const port = await freePort();
    const file = join(dir, 'gw.yaml');
    await writeFile(file, config(a.url, port));
    const gw = spawnGateway(file);
    try {
      await gw.waitForLog((l) => l.msg === 'listening');
      const url = `http://127.0.0.1:${port}`;
      assert.match(await (await fetch(url)).text(), /^a:/);

      await writeFile(file, config(b.url, port));
      await gw.waitForLog((l) => l.msg === 'configuration reloaded');
      assert.equal(await (await fetch(url)).text(), 'b');

      await writeFile(file, 'version: 1\nroutes: [');
      await gw.waitForLog((l) => /reload rejected/.test(String(l.msg)));
      assert.equal(await (await fetch(url)).text(), 'b', 'old config keeps serving');

      const reloads = gw.logs.filter((l) => l.msg === 'configuration reloaded').length;
      await writeFile(file, config(slow.url, port));
      await gw.waitForLog(() => gw.logs.filter((l) => l.msg === 'configuration reloaded').length > reloads);
      gw.child.kill('SIGHUP');
      await gw.waitForLog(
        () => gw.logs.filter((l) => l.msg === 'configuration reloaded').length > reloads + 1,
      );

      const inflight = fetch(`${url}/slow`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 200));
      const code = await gw.stop('SIGTERM');
      assert.equal(await inflight, 'slow-done', 'in-flight request drained');
      assert.equal(code, 0);
      await assert.rejects(fetch(url), 'no longer accepting');
    } finally {
      await gw.stop('SIGKILL');
    }
  });

  test('workers: 2 serves from two processes and a reload reaches every worker', async () => {
    const port = await freePort();
    const file = join(dir, 'workers.yaml');
    await writeFile(file, config(a.url, port, { workers: 2 }));
    const gw = spawnGateway(file);
    try {
      // readiness is printed on stderr by the primary
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 300 && !/2 workers ready/.test(gw.output()); i++)
        await new Promise((r) => setTimeout(r, 200));
      assert.match(gw.output(), /2 workers ready/);
      for (let i = 0; i < 20; i++) await (await fetch(url, { headers: { connection: 'close' } })).text();
      // access lines are flushed in batches at least once a second
      const accessPids = () => new Set(gw.logs.filter((l) => l.type === 'access').map((l) => l.pid));
      for (let i = 0; i < 50 && accessPids().size < 2; i++) await new Promise((r) => setTimeout(r, 100));
      const pids = accessPids();
      assert.equal(pids.size, 2, 'both workers answered');

      gw.child.kill('SIGHUP');
      for (let i = 0; i < 300 && gw.logs.filter((l) => l.msg === 'configuration reloaded').length < 2; i++)
        await new Promise((r) => setTimeout(r, 100));
      await writeFile(file, config(b.url, port, { workers: 2 }));
      for (let i = 0; i < 300 && gw.logs.filter((l) => l.msg === 'configuration reloaded').length < 4; i++)
        await new Promise((r) => setTimeout(r, 100));
      const reloadedPids = new Set(
        gw.logs.filter((l) => l.msg === 'configuration reloaded').map((l) => l.pid),
      );
      assert.equal(reloadedPids.size, 2, 'every worker reloaded');
      for (let i = 0; i < 20; i++)
        assert.equal(await (await fetch(url, { headers: { connection: 'close' } })).text(), 'b');
    } finally {
      await gw.stop('SIGTERM');
    }
  });
});
