import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, statuses } from '../helpers/raw-http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/** Each payload carries a smuggled second request; the upstream must never see `/smuggled`. */
const attacks: Record<string, string> = {
  'CL.TE: both Content-Length and Transfer-Encoding':
    'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'TE.CL: Transfer-Encoding then Content-Length':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n',
  'duplicate Content-Length with different values':
    'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 39\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'duplicate Content-Length, same value, comma form':
    'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello',
  'Content-Length with a sign': 'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello',
  'Content-Length not a number': 'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello',
  'obfuscated TE: xchunked':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'obfuscated TE: chunked, identity':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'obfuscated TE: identity, chunked with CL':
    'POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'obfuscated TE: two headers':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'obfuscated TE: space before colon':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'obfuscated TE: line folding':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'bare LF line endings in chunked body':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\n\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  'invalid chunk size':
    'POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'NUL in header value': 'GET /api HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
  'missing Host': 'GET /api HTTP/1.1\r\n\r\n',
  'HTTP/1.0 with Transfer-Encoding':
    'POST /api HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
};

describe('request smuggling is refused, never forwarded', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  for (const [name, payload] of Object.entries(attacks)) {
    test(name, async () => {
      const raw = await rawRequest(gw.url, payload);
      const codes = statuses(raw);
      assert.ok(codes.length >= 1, 'the gateway answered');
      assert.ok(codes[0]! >= 400 && codes[0]! < 500, `first answer is ${codes[0]}`);
      assert.ok(
        !upstream.requests.some((r) => r.url.includes('smuggled')),
        'smuggled request reached the upstream',
      );
      assert.ok(!codes.slice(1).includes(200), 'no second request was answered');
    });
  }

  test('a clean chunked request still works and is forwarded once', async () => {
    const before = upstream.requests.length;
    const raw = await rawRequest(
      gw.url,
      'POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    assert.deepEqual(statuses(raw), [200]);
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(upstream.requests.at(-1)!.body.toString(), 'hello');
  });
});
