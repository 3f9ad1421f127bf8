import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

describe('proxying', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({
      upstreams: { echo: { targets: [{ url: upstream.url }] } },
      routes: [
        { name: 'api', match: { pathPrefix: '/api' }, upstream: 'echo', public: true, stripPrefix: '/api' },
        { name: 'root', match: { path: '/things/{id}', methods: ['GET'] }, upstream: 'echo', public: true },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('forwards the request and strips the prefix', async () => {
    const res = await fetch(`${gw.url}/api/hello?x=1`, { headers: { 'x-custom': 'yes' } });
    assert.equal(res.status, 200);
    const echoed = (await res.json()) as { url: string; headers: Record<string, string> };
    assert.equal(echoed.url, '/hello?x=1');
    assert.equal(echoed.headers['x-custom'], 'yes');
    assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
    assert.match(echoed.headers['x-request-id']!, /^[0-9a-f-]{36}$/);
    assert.match(echoed.headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(res.headers.get('x-request-id'), echoed.headers['x-request-id']);
  });

  test('unknown path is a problem+json 404', async () => {
    const res = await fetch(`${gw.url}/nope`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'not_found');
    assert.equal(body.status, 404);
  });

  test('wrong method is 405 with Allow', async () => {
    const res = await fetch(`${gw.url}/things/1`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    await res.body?.cancel();
  });
});
