import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { headerBlock, rawH2 } from './h2-frames.js';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    listeners: [{ host: '127.0.0.1', port: 0, tls: { devCertificate: true, http2: true } }],
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});

function session(): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const client = connect(gw.url, { rejectUnauthorized: false });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

function get(client: ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path, ':method': 'GET' });
    req.on('response', (headers) => resolve(Number(headers[':status'])));
    req.on('error', reject);
    req.resume();
    req.end();
  });
}

test('HTTP/2 works through the gateway', async () => {
  const client = await session();
  try {
    assert.equal(await get(client, '/h2'), 200);
  } finally {
    client.close();
  }
});

test('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM in a loop gets the session cut, the gateway keeps serving', async () => {
  const attempts = 20_000;
  const attacker = await rawH2(gw.url);
  let goaway: number | undefined;
  void attacker.ended.then((code) => (goaway = code));
  let sent = 0;
  const before = upstream.requests.length;
  for (; sent < attempts && !attacker.socket.destroyed && goaway === undefined; sent++) {
    attacker.headersThenReset(1 + 2 * sent, `/rr/${sent}`);
    // let frames go out and answers come back in batches, as an attacker's socket would
    if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  const code = await attacker.ended;
  attacker.socket.destroy();
  // the server cut the session long before the attacker ran out of attempts
  assert.ok(sent < attempts, `sent all ${sent} resets without being cut`);
  // The gateway's guard answers GOAWAY(ENHANCE_YOUR_CALM). On Node 24, Node's own HTTP/2 flood
  // protection can cut this attacker first (after some 150 streams reached the gateway, with
  // GOAWAY(INTERNAL_ERROR)); on Node 20 and 22 the guard always does.
  const major = Number(process.versions.node.split('.')[0]);
  const cutBy =
    major >= 24
      ? [constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_INTERNAL_ERROR]
      : [constants.NGHTTP2_ENHANCE_YOUR_CALM];
  assert.ok(cutBy.includes(code ?? goaway ?? -1), `GOAWAY code ${code ?? goaway}`);
  // and only a small fraction of the reset streams ever reached the upstream
  const reached = upstream.requests.length - before;
  assert.ok(reached < attempts / 10, `reached upstream: ${reached}`);
  // a well-behaved client is still served
  const fresh = await session();
  try {
    assert.equal(await get(fresh, '/after'), 200);
  } finally {
    fresh.close();
  }
});

test('stream concurrency is capped by SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
  const client = await session();
  try {
    await new Promise<void>((resolve) => {
      if (client.remoteSettings.maxConcurrentStreams !== undefined) resolve();
      client.once('remoteSettings', () => resolve());
    });
    const max = client.remoteSettings.maxConcurrentStreams ?? Infinity;
    assert.ok(max <= 100, `server allows ${max} concurrent streams`);
  } finally {
    client.close();
  }
});

test('CONTINUATION flood (CVE-2024-27316): a header block that never ends gets the session cut', async () => {
  const attacker = await rawH2(gw.url);
  const before = upstream.requests.length;
  // HEADERS without END_HEADERS, then CONTINUATION frames forever
  attacker.send(0x1, 0x1, 1, headerBlock('/continuation', 'localhost'));
  const junk = Buffer.concat([Buffer.from([0x40, 0x05]), Buffer.from('x-pad'), Buffer.from([0x7f, 0x00])]);
  const piece = Buffer.concat([junk, Buffer.alloc(127, 0x61)]);
  let sent = 0;
  const limit = 100_000;
  let over = false;
  void attacker.ended.then(() => (over = true));
  for (; sent < limit && !over && !attacker.socket.destroyed; sent++) {
    attacker.send(0x9, 0, 1, piece);
    if (sent % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  await attacker.ended;
  attacker.socket.destroy();
  assert.ok(sent < limit, `sent ${sent} CONTINUATION frames without being cut`);
  assert.equal(upstream.requests.slice(before).filter((r) => r.url === '/continuation').length, 0);
  const fresh = await session();
  try {
    assert.equal(await get(fresh, '/after-continuation'), 200);
  } finally {
    fresh.close();
  }
});
