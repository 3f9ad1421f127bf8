import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    listeners: [{ host: '127.0.0.1', port: 0, tls: { devCertificate: true, http2: true } }],
    limits: { headersTimeoutMs: 400, requestTimeoutMs: 800 },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});

test('HTTP/2 slow body: a stream whose body trickles past requestTimeoutMs is cut, never forwarded whole', async () => {
  const client = connect(gw.url, { rejectUnauthorized: false });
  client.on('error', () => undefined);
  try {
    const req = client.request({ ':method': 'POST', ':path': '/slow-h2', 'content-length': '100000' });
    req.on('error', () => undefined);
    req.on('response', () => undefined);
    req.resume();
    const timer = setInterval(() => {
      if (!req.destroyed && !req.closed) req.write('a');
    }, 20);
    await new Promise<void>((resolve) => req.once('close', () => resolve()));
    clearInterval(timer);
    assert.equal(upstream.requests.filter((r) => r.url === '/slow-h2' && r.body.length === 100000).length, 0);
    // the session itself is still usable for well-behaved streams
    const ok = client.request({ ':path': '/fine' });
    ok.resume();
    const status = await new Promise<number>((resolve, reject) => {
      ok.once('response', (h) => resolve(Number(h[':status'])));
      ok.once('error', reject);
    });
    assert.equal(status, 200);
  } finally {
    client.close();
  }
});
