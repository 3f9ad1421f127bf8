import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, statuses } from '../helpers/raw-http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

describe('body and URL limits', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({
      limits: { maxBodyBytes: 1024, maxUrlLength: 128 },
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('a declared Content-Length over the limit is refused with 413 before anything is forwarded', async () => {
    const before = upstream.requests.length;
    const raw = await rawRequest(
      gw.url,
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n' + 'a'.repeat(100),
    );
    assert.equal(statuses(raw)[0], 413);
    assert.match(raw, /payload_too_large/);
    assert.equal(upstream.requests.length, before);
  });

  test('a chunked body that grows past the limit is cut and never delivered whole', async () => {
    const chunk = 'a'.repeat(512);
    const body = `200\r\n${chunk}\r\n`.repeat(4) + '0\r\n\r\n';
    const raw = await rawRequest(
      gw.url,
      `POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(statuses(raw)[0], 413);
    assert.ok(
      !upstream.requests.some((r) => r.body.length >= 2048),
      'the upstream never received the whole body',
    );
  });

  test('an over-long URL is refused with 414', async () => {
    const res = await fetch(`${gw.url}/${'a'.repeat(200)}`);
    assert.equal(res.status, 414);
    await res.body?.cancel();
  });

  test('a body within the limit passes', async () => {
    const res = await fetch(`${gw.url}/x`, { method: 'POST', body: 'b'.repeat(1000) });
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.at(-1)!.body.length, 1000);
  });
});
