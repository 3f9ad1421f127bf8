import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { run as quotasCli } from '../../../src/cli/commands/quotas.js';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
let upstream: TestUpstream;
let gw: TestGateway;
const releaseSlow: (() => void)[] = [];

before(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/slow')) {
      releaseSlow.push(() => res.end('slow'));
      return;
    }
    res.end('ok');
  });
  gw = await startGateway({
    admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
    store: { type: 'sqlite', path: 'store.db' },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [
      {
        name: 'limited',
        match: { pathPrefix: '/limited' },
        upstream: 'app',
        public: true,
        rateLimits: [{ name: 'per-minute', rate: 3, per: '1m', key: ['ip'] }],
      },
      {
        name: 'quota',
        match: { pathPrefix: '/quota' },
        upstream: 'app',
        public: true,
        quota: { name: 'daily', limit: 2, period: 'day', per: 'plan', timeZone: 'Europe/Paris' },
      },
      {
        name: 'exact',
        match: { pathPrefix: '/exact' },
        upstream: 'app',
        public: true,
        rateLimits: [{ name: 'hourly', rate: 37, per: '1h', key: ['route'] }],
      },
      {
        name: 'throttled',
        match: { pathPrefix: '/throttled' },
        upstream: 'app',
        public: true,
        throttle: { rate: 1, per: '1h', burst: 0, key: ['ip'] },
      },
      {
        name: 'slow',
        match: { pathPrefix: '/slow' },
        upstream: 'app',
        public: true,
        concurrency: { max: 1, queue: 0 },
      },
    ],
  });
});

after(async () => {
  for (const release of releaseSlow) release();
  await gw?.close();
  await upstream?.close();
});

test('rate limit through the gateway: 429 problem+json, Retry-After, RateLimit headers on every answer', async () => {
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await fetch(`${gw.url}/limited/x`));
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 200, 200, 429],
  );
  assert.equal(answers[0]?.headers.get('ratelimit-policy'), '"per-minute";q=3;w=60');
  assert.match(answers[0]?.headers.get('ratelimit') ?? '', /^"per-minute";r=2;t=\d+$/);
  const refused = answers[3]!;
  assert.equal(refused.headers.get('content-type'), 'application/problem+json');
  assert.equal(refused.headers.get('retry-after'), '20');
  assert.match(refused.headers.get('ratelimit') ?? '', /^"per-minute";r=0;t=20$/);
  const problem = (await refused.json()) as { code: string; status: number };
  assert.equal(problem.code, 'rate_limited');
  assert.equal(problem.status, 429);
  assert.equal(upstream.requests.filter((r) => r.url.startsWith('/limited')).length, 3);
});

test('quota through the gateway, visible and reset via the admin API and the CLI', async () => {
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${gw.url}/quota`)).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const usage = (await (
    await fetch(`${gw.adminUrl}/admin/quotas?plan=default`, { headers: auth })
  ).json()) as {
    quota: string;
    used: number;
    limit: number;
  }[];
  assert.deepEqual(
    usage.map((u) => [u.quota, u.used, u.limit]),
    [['daily', 2, 2]],
  );
  assert.equal((await fetch(`${gw.adminUrl}/admin/quotas?plan=default`)).status, 401);

  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
  assert.equal(await quotasCli(['show', '--plan', 'default', '--config', gw.configFile, '--json'], io), 0);
  assert.equal((JSON.parse(out.join('')) as { used: number }[])[0]?.used, 2);

  const reset = await fetch(`${gw.adminUrl}/admin/quotas/reset`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ plan: 'default' }),
  });
  assert.equal(reset.status, 200);
  assert.deepEqual(await reset.json(), { reset: ['daily'] });
  assert.equal((await fetch(`${gw.url}/quota`)).status, 200);

  out.length = 0;
  assert.equal(await quotasCli(['reset', '--plan', 'default', '--config', gw.configFile], io), 0);
  assert.match(out.join(''), /reset: daily/);
  assert.equal(await quotasCli(['show', '--config', gw.configFile], io), 2);
});

test('concurrency: a slot held by a client that aborts is released', async () => {
  // first request occupies the only slot, then the client goes away
  const aborted = request(`${gw.url}/slow/1`);
  aborted.on('error', () => undefined);
  aborted.end();
  while (releaseSlow.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await fetch(`${gw.url}/slow/2`)).status, 503);
  aborted.destroy();
  // the slot comes back without the upstream ever answering the aborted request
  for (;;) {
    const reached = releaseSlow.length;
    let status: number | undefined;
    const pending = fetch(`${gw.url}/slow/3`).then((r) => (status = r.status));
    // either refused by the gateway, or admitted (it then reaches the upstream)
    while (status === undefined && releaseSlow.length === reached) await new Promise((r) => setTimeout(r, 5));
    if (status === undefined) {
      releaseSlow.at(-1)?.();
      assert.equal(await pending, 200);
      break;
    }
    assert.equal(status, 503);
  }
});

test('memory limiter is exact in one process: 200 concurrent requests, exactly 37 admitted', async () => {
  const statuses = await Promise.all(
    Array.from({ length: 200 }, () =>
      fetch(`${gw.url}/exact`).then(async (r) => (await r.arrayBuffer(), r.status)),
    ),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 37);
  assert.equal(statuses.filter((s) => s === 429).length, 163);
});

test('throttle through the gateway: beyond the burst, 429 with Retry-After', async () => {
  assert.equal((await fetch(`${gw.url}/throttled`)).status, 200);
  const refused = await fetch(`${gw.url}/throttled`);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '3600');
  assert.equal(((await refused.json()) as { code: string }).code, 'rate_limited');
});
