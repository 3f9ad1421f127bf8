import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const ADMIN_TOKEN = 'q7Vb2mZ9xK4pL1sT8wR3nY6cF0hJ5dG2';

describe('access log, metrics, health', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': '5',
          'set-cookie': 'session=upstream-secret-cookie',
        });
        res.end('hello');
      }, 20);
    });
    gw = await startGateway({
      admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [{ name: 'things', match: { pathPrefix: '/things' }, upstream: 'u', public: true }],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('one access-log line per request with route, status, bytes and separate timings', async () => {
    const res = await fetch(`${gw.url}/things/1`, { headers: { 'x-request-id': 'log-test-1' } });
    await res.text();
    await new Promise((r) => setTimeout(r, 50));
    const lines = gw.logs.filter((l) => l.type === 'access' && l.requestId === 'log-test-1');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.route, 'things');
    assert.equal(line.status, 200);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/things/1');
    assert.equal(line.bytesOut, 5);
    assert.ok(typeof line.gatewayMs === 'number' && typeof line.upstreamMs === 'number');
    assert.ok((line.upstreamMs as number) >= 15, `upstream time measured (${String(line.upstreamMs)})`);
    assert.ok((line.totalMs as number) >= (line.upstreamMs as number));
  });

  test('credentials never reach the log', async () => {
    const secrets = [
      'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig-secret-token',
      'session=client-secret-cookie',
      'pcs_live_secretapikey123',
    ];
    const res = await fetch(`${gw.url}/things/2?api_key=pcs_query_secret_999&token=abc-secret-qs`, {
      headers: { authorization: secrets[0]!, cookie: secrets[1]!, 'x-api-key': secrets[2]! },
    });
    await res.text();
    await new Promise((r) => setTimeout(r, 50));
    const text = gw.logText();
    for (const secret of [
      ...secrets,
      'pcs_query_secret_999',
      'abc-secret-qs',
      'upstream-secret-cookie',
      'client-secret-cookie',
    ]) {
      assert.ok(!text.includes(secret), `log contains ${secret}`);
    }
  });

  test('sensitive data in logged values is masked (cards, cloud keys)', async () => {
    const res = await fetch(`${gw.url}/things/4111111111111111/AKIAIOSFODNN7EXAMPLE`);
    await res.text();
    await new Promise((r) => setTimeout(r, 50));
    const text = gw.logText();
    assert.ok(!text.includes('4111111111111111'), 'card number logged in clear');
    assert.ok(!text.includes('AKIAIOSFODNN7EXAMPLE'), 'access key id logged in clear');
    assert.match(text, /\*{12}1111/);
  });

  test('errors are logged with their code and reason, never a stack in the response', async () => {
    const res = await fetch(`${gw.url}/nowhere`);
    const body = await res.text();
    assert.equal(res.status, 404);
    assert.doesNotMatch(body, /at \w+ \(|\.ts:\d+|\.js:\d+/);
    await new Promise((r) => setTimeout(r, 50));
    const line = gw.logs.filter((l) => l.type === 'access').at(-1)!;
    assert.equal(line.error, 'not_found');
    assert.equal(line.route, '-');
  });

  test('Prometheus metrics, liveness and readiness on the admin listener', async () => {
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /portcullis_requests_total\{route="things",method="GET",status="200"\} \d+/);
    assert.match(
      metrics,
      /portcullis_request_duration_seconds_bucket\{le="[\d.]+",route="things",status="200"\}/,
    );
    assert.match(metrics, /portcullis_upstream_duration_seconds_count\{route="things",upstream="u"\}/);
    assert.match(metrics, /portcullis_requests_in_flight \d+/);
    assert.match(
      metrics,
      /portcullis_upstream_target_healthy\{upstream="u",target="http:\/\/127\.0\.0\.1:\d+"\} 1/,
    );
    assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 200);
  });

  test('the metrics endpoint is not served on the public listener', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });

  test('admin API endpoints require the admin token', async () => {
    const paths = ['/admin/consumers', '/admin/nope'];
    for (const path of paths) {
      const anonymous = await fetch(`${gw.adminUrl}${path}`);
      assert.ok([401, 404].includes(anonymous.status));
      await anonymous.body?.cancel();
      const wrong = await fetch(`${gw.adminUrl}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` },
      });
      assert.ok([401, 404].includes(wrong.status));
      await wrong.body?.cancel();
    }
  });
});

describe('admin secret strength', () => {
  for (const token of ['changeme', 'short-token', 'a'.repeat(40), 'changeme-changeme-changeme-changeme']) {
    test(`refuses to start with admin token ${JSON.stringify(token.slice(0, 12))}…`, async () => {
      await assert.rejects(
        startGateway({
          admin: { port: 0, token },
          upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } },
          routes: [],
        }),
        (error: unknown) =>
          error instanceof ConfigError && error.issues.some((i) => i.pointer === '/admin/token'),
      );
    });
  }
});
