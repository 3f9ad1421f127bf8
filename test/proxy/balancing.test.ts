import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function upstreamNamed(
  name: string,
  handler?: (count: number) => { status?: number; delayMs?: number },
): Promise<TestUpstream> {
  let count = 0;
  const up = await startUpstream((_req, res) => {
    const plan = handler?.(++count) ?? {};
    setTimeout(() => {
      res.writeHead(plan.status ?? 200, { 'content-type': 'text/plain' });
      res.end(name);
    }, plan.delayMs ?? 0);
  });
  cleanups.push(() => up.close());
  return up;
}

async function gateway(
  upstreams: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<TestGateway> {
  const gw = await startGateway({
    upstreams,
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    ...extra,
  });
  cleanups.push(() => gw.close());
  return gw;
}

async function hit(url: string, n: number, init?: RequestInit): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, init);
    out.push(res.status === 200 ? await res.text() : `${res.status}`);
    if (res.bodyUsed === false) await res.body?.cancel();
  }
  return out;
}

describe('load balancing', () => {
  test('weighted round robin spreads requests by weight', async () => {
    const a = await upstreamNamed('a');
    const b = await upstreamNamed('b');
    const gw = await gateway({
      u: {
        targets: [
          { url: a.url, weight: 3 },
          { url: b.url, weight: 1 },
        ],
      },
    });
    const seen = await hit(`${gw.url}/x`, 40);
    assert.equal(seen.filter((s) => s === 'a').length, 30);
    assert.equal(seen.filter((s) => s === 'b').length, 10);
  });

  test('least connections prefers the idle target', async () => {
    const slow = await upstreamNamed('slow', () => ({ delayMs: 400 }));
    const fast = await upstreamNamed('fast');
    const gw = await gateway({
      u: { balance: 'least_connections', targets: [{ url: slow.url }, { url: fast.url }] },
    });
    const pending = [fetch(`${gw.url}/1`).then((r) => r.text()), fetch(`${gw.url}/2`).then((r) => r.text())];
    await new Promise((r) => setTimeout(r, 50));
    const next = await hit(`${gw.url}/3`, 5);
    assert.deepEqual(next, ['fast', 'fast', 'fast', 'fast', 'fast']);
    const first = await Promise.all(pending);
    assert.ok(first.includes('slow'));
  });
});

describe('health and failure handling', () => {
  test('active health checks take a failing target out and bring it back', async () => {
    let healthy = true;
    const sick = await startUpstream((req, res) => {
      if (req.url === '/health') {
        res.writeHead(healthy ? 200 : 503);
        res.end();
        return;
      }
      res.end('sick');
    });
    cleanups.push(() => sick.close());
    const ok = await upstreamNamed('ok');
    const gw = await gateway({
      u: {
        targets: [{ url: sick.url }, { url: ok.url }],
        healthCheck: {
          path: '/health',
          intervalMs: 100,
          timeoutMs: 200,
          healthyThreshold: 1,
          unhealthyThreshold: 1,
        },
      },
    });
    healthy = false;
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(new Set(await hit(`${gw.url}/x`, 6)), new Set(['ok']));
    const metrics = await gw.gateway.services.metrics.registry.getSingleMetricAsString(
      'portcullis_upstream_target_healthy',
    );
    assert.match(metrics, new RegExp(`target="${sick.url}"} 0`));
    healthy = true;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok((await hit(`${gw.url}/x`, 6)).includes('sick'));
  });

  test('passive outlier detection ejects a target after consecutive failures', async () => {
    const bad = await upstreamNamed('bad', () => ({ status: 500 }));
    const good = await upstreamNamed('good');
    const gw = await gateway({
      u: {
        targets: [{ url: bad.url }, { url: good.url }],
        outlierDetection: { consecutiveFailures: 2, ejectionMs: 60_000 },
        retries: { attempts: 0 },
      },
    });
    await hit(`${gw.url}/x`, 4);
    assert.deepEqual(new Set(await hit(`${gw.url}/x`, 6)), new Set(['good']));
  });

  test('unreachable upstream is a 502 problem; no healthy target is a 503', async () => {
    const gw = await gateway({ u: { targets: [{ url: 'http://127.0.0.1:9' }], retries: { attempts: 0 } } });
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await res.json()) as { code: string }).code, 'upstream_unavailable');
  });

  test('an upstream slower than the headers timeout is a 504', async () => {
    const slow = await upstreamNamed('slow', () => ({ delayMs: 1500 }));
    const gw = await gateway({
      u: { targets: [{ url: slow.url }], timeouts: { headersMs: 200 }, retries: { attempts: 0 } },
    });
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { code: string }).code, 'upstream_timeout');
  });

  test('the total timeout bounds the whole upstream call', async () => {
    const slow = await upstreamNamed('slow', () => ({ delayMs: 1500 }));
    const gw = await gateway({
      u: { targets: [{ url: slow.url }], timeouts: { totalMs: 200 }, retries: { attempts: 0 } },
    });
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 504);
    await res.body?.cancel();
  });
});

describe('retries and circuit breaker', () => {
  test('idempotent requests are retried on another target; POST is not', async () => {
    const flaky = await upstreamNamed('flaky', () => ({ status: 503 }));
    const fine = await upstreamNamed('fine');
    const gw = await gateway({
      u: { targets: [{ url: flaky.url }, { url: fine.url }], retries: { attempts: 1, budgetPercent: 100 } },
    });
    const gets = await hit(`${gw.url}/x`, 4);
    assert.deepEqual(new Set(gets), new Set(['fine']));
    const before = flaky.requests.length + fine.requests.length;
    const posts = await hit(`${gw.url}/x`, 4, { method: 'POST', body: 'x' });
    assert.ok(posts.includes('503'), 'a POST to the flaky target is not retried');
    assert.equal(
      flaky.requests.length + fine.requests.length - before,
      4,
      'exactly one upstream call per POST',
    );
  });

  test('the retry budget caps retries under sustained failure', async () => {
    const down = await upstreamNamed('down', () => ({ status: 503 }));
    const gw = await gateway({
      u: {
        targets: [{ url: down.url }],
        retries: { attempts: 2, budgetPercent: 10 },
        outlierDetection: { consecutiveFailures: 1000 },
      },
    });
    await hit(`${gw.url}/x`, 30);
    assert.ok(down.requests.length < 30 * 1.3, `upstream saw ${down.requests.length} calls for 30 requests`);
    assert.ok(down.requests.length > 30, 'some retries happened');
  });

  test('the circuit breaker opens after failures and half-opens after the reset time', async () => {
    let fail = true;
    const up = await startUpstream((_req, res) => {
      res.writeHead(fail ? 500 : 200);
      res.end(fail ? 'bad' : 'ok');
    });
    cleanups.push(() => up.close());
    const gw = await gateway({
      u: {
        targets: [{ url: up.url }],
        retries: { attempts: 0 },
        circuitBreaker: { failureThreshold: 3, resetMs: 300 },
        outlierDetection: { consecutiveFailures: 1000 },
      },
    });
    await hit(`${gw.url}/x`, 3);
    const calls = up.requests.length;
    const open = await fetch(`${gw.url}/x`);
    assert.equal(open.status, 503);
    assert.equal(((await open.json()) as { code: string }).code, 'circuit_open');
    assert.equal(up.requests.length, calls, 'an open circuit sends nothing upstream');
    fail = false;
    await new Promise((r) => setTimeout(r, 350));
    assert.deepEqual(await hit(`${gw.url}/x`, 3), ['ok', 'ok', 'ok']);
  });
});

describe('panic mode', () => {
  test('passive ejection never empties an upstream', async () => {
    let fail = true;
    const only = await startUpstream((_req, res) => {
      res.writeHead(fail ? 500 : 200);
      res.end(fail ? 'bad' : 'ok');
    });
    cleanups.push(() => only.close());
    const gw = await gateway({
      u: {
        targets: [{ url: only.url }],
        retries: { attempts: 0 },
        outlierDetection: { consecutiveFailures: 2, ejectionMs: 60_000 },
      },
    });
    await hit(`${gw.url}/x`, 3);
    fail = false;
    assert.deepEqual(await hit(`${gw.url}/x`, 2), ['ok', 'ok']);
  });
});
