import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

function send(
  url: string,
  headers: Record<string, string>,
  path = '/x',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('forwarding headers', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let trusting: TestGateway;
  before(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'x-internal-hop, keep-alive',
        'x-internal-hop': 'secret-hop',
        'keep-alive': 'timeout=5',
        'proxy-authenticate': 'Basic',
      });
      res.end('ok');
    });
    const base = {
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    };
    gw = await startGateway({ ...base, forwardedHeaders: 'both' });
    trusting = await startGateway({ ...base, trustedProxies: ['127.0.0.0/8', '::1/128', '10.0.0.0/8'] });
  });
  after(async () => {
    await gw.close();
    await trusting.close();
    await upstream.close();
  });

  test('hop-by-hop headers and those named in Connection are not forwarded, either way', async () => {
    const res = await send(gw.url, {
      connection: 'keep-alive, x-hop-secret',
      'x-hop-secret': 'do-not-forward',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      upgrade: 'websocket',
      'x-end-to-end': 'kept',
    });
    assert.equal(res.status, 200);
    const seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-hop-secret'], undefined);
    assert.equal(seen['proxy-authorization'], undefined);
    assert.equal(seen.upgrade, undefined);
    assert.equal(seen.te, undefined);
    assert.equal(seen['x-end-to-end'], 'kept');
    assert.equal(res.headers['x-internal-hop'], undefined);
    assert.equal(res.headers['proxy-authenticate'], undefined);
  });

  test('spoofed X-Forwarded-* and Forwarded from an untrusted client are replaced', async () => {
    await send(gw.url, {
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=6.6.6.6;proto=https',
      'x-real-ip': '6.6.6.6',
      host: 'api.example.com:8080',
    });
    const seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'api.example.com:8080');
    assert.equal(seen.forwarded, 'for=127.0.0.1;proto=http;host="api.example.com:8080"');
    assert.equal(seen['x-real-ip'], undefined);
    assert.equal(seen.host, 'api.example.com:8080', 'host preserved by default');
  });

  test('behind a trusted proxy the chain is kept and the client address is derived from it', async () => {
    await send(trusting.url, { 'x-forwarded-for': '203.0.113.7, 10.0.0.2', 'x-forwarded-proto': 'https' });
    const seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '203.0.113.7, 10.0.0.2, 127.0.0.1');
    const line = trusting.logs.filter((l) => l.type === 'access').at(-1)!;
    assert.equal(line.client, '203.0.113.7');
  });

  test('a valid request id and traceparent are propagated; invalid ones are replaced', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const ok = await send(gw.url, { 'x-request-id': 'abc-123', traceparent: tp });
    assert.equal(ok.headers['x-request-id'], 'abc-123');
    let seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-request-id'], 'abc-123');
    assert.equal(seen.traceparent, tp);
    const bad = await send(gw.url, { 'x-request-id': 'x'.repeat(300), traceparent: 'garbage' });
    seen = upstream.requests.at(-1)!.headers;
    assert.notEqual(seen['x-request-id'], 'x'.repeat(300));
    assert.equal(bad.headers['x-request-id'], seen['x-request-id']);
    assert.match(String(seen.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('host header policy and rewrites', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'up',
          match: { pathPrefix: '/up' },
          upstream: 'u',
          public: true,
          hostHeader: 'upstream',
          stripPrefix: '/up',
          addPrefix: '/v2',
        },
        {
          name: 'fixed',
          match: { pathPrefix: '/fixed' },
          upstream: 'u',
          public: true,
          hostHeader: 'internal.example',
        },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('hostHeader: upstream uses the target host; prefixes are stripped and added', async () => {
    await send(gw.url, { host: 'public.example' }, '/up/orders/1?x=y');
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.headers.host, `127.0.0.1:${upstream.port}`);
    assert.equal(seen.url, '/v2/orders/1?x=y');
  });

  test('hostHeader: a fixed value', async () => {
    await send(gw.url, { host: 'public.example' }, '/fixed');
    assert.equal(upstream.requests.at(-1)!.headers.host, 'internal.example');
  });
});

describe('answer headers set by the gateway', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream((_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-request-id', 'from-upstream');
      res.setHeader('ratelimit', '"spoofed";r=999;t=1');
      res.setHeader('vary', 'accept');
      res.end('ok');
    });
    gw = await startGateway({
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'limited',
          match: { pathPrefix: '/limited' },
          upstream: 'u',
          public: true,
          rateLimits: [{ name: 'ten', rate: 10, per: '1m', key: ['ip'] }],
        },
        { name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  /** Raw header lines of one answer, as sent (names lower-cased). */
  async function rawHeaders(path: string): Promise<[string, string][]> {
    const res = await fetch(`${gw.url}${path}`);
    await res.arrayBuffer();
    const lines: [string, string][] = [];
    res.headers.forEach((value, name) => lines.push([name, value]));
    return [...lines, ...res.headers.getSetCookie().map((c): [string, string] => ['set-cookie*', c])];
  }

  test("repeated upstream headers are kept; X-Request-Id is the gateway's, once", async () => {
    const res = await send(gw.url, {}, '/plain');
    assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.vary, 'accept');
    const lines = await rawHeaders('/plain');
    assert.equal(lines.filter(([n]) => n === 'x-request-id').length, 1);
    assert.notEqual(lines.find(([n]) => n === 'x-request-id')![1], 'from-upstream');
  });

  test("the limiter's RateLimit header replaces the upstream's, not joins it", async () => {
    const res = await send(gw.url, {}, '/limited/x');
    assert.equal(res.status, 200);
    assert.match(String(res.headers.ratelimit), /^"ten";r=\d+;t=\d+$/);
    assert.equal(res.headers['ratelimit-policy'], '"ten";q=10;w=60');
  });
});

describe('the object form of upstream headers', () => {
  test('a header named __proto__ is an ordinary member, never the prototype', async () => {
    const { headerListToRecord } = await import('../../src/proxy/headers.js');
    const record = headerListToRecord([
      '__proto__',
      'first',
      'content-type',
      'text/plain',
      '__proto__',
      'second',
      'constructor',
      'x',
    ]);
    assert.deepEqual(Object.keys(record).sort(), ['__proto__', 'constructor', 'content-type']);
    assert.deepEqual(record['__proto__'], ['first', 'second']);
    assert.equal(record['constructor'], 'x');
    assert.equal(record['content-type'], 'text/plain');
    assert.equal(Object.getPrototypeOf(record), null);
    // a name no upstream sent reads as absent, not as something inherited
    assert.equal(record['toString'], undefined);
  });
});
