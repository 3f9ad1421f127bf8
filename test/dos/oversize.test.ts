import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { rawRequest, statuses } from '../helpers/raw-http.js';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    limits: { maxHeaderBytes: 4096, maxHeaderCount: 20, maxUrlLength: 512, maxBodyBytes: 1024 },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});

const forwarded = (path: string): number => upstream.requests.filter((r) => r.url.startsWith(path)).length;

test('oversize header block: 431, never forwarded', async () => {
  const raw = await rawRequest(
    gw.url,
    `GET /big-header HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
  );
  assert.deepEqual(statuses(raw), [431]);
  assert.match(raw, /application\/problem\+json/);
  assert.equal(forwarded('/big-header'), 0);
});

test('too many header fields: 431, never forwarded (extra fields are not silently dropped)', async () => {
  const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: v\r\n`).join('');
  const raw = await rawRequest(gw.url, `GET /many-headers HTTP/1.1\r\nHost: a\r\n${many}\r\n`);
  assert.deepEqual(statuses(raw), [431]);
  assert.equal(forwarded('/many-headers'), 0);
  const ok = Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join('');
  assert.deepEqual(
    statuses(await rawRequest(gw.url, `GET /few-headers HTTP/1.1\r\nHost: a\r\n${ok}\r\n`)),
    [200],
  );
});

test('over-long URL: 414', async () => {
  const raw = await rawRequest(gw.url, `GET /${'u'.repeat(1000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  assert.deepEqual(statuses(raw), [414]);
});

test('oversize body declared by Content-Length: 413 at once, before the body is sent', async () => {
  const raw = await rawRequest(
    gw.url,
    'POST /declared HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n',
  );
  assert.deepEqual(statuses(raw), [413]);
  assert.equal(forwarded('/declared'), 0);
});

test('oversize chunked body: cut while streaming, never delivered whole', async () => {
  const { port } = new URL(gw.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = 'x'.repeat(512);
  for (let i = 0; i < 20 && !socket.destroyed; i++) {
    socket.write(`${(512).toString(16)}\r\n${chunk}\r\n`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!socket.destroyed) socket.end('0\r\n\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  assert.ok(answer === '' || /^HTTP\/1\.1 (413|502) /.test(answer), answer.slice(0, 80));
  assert.ok(upstream.requests.filter((r) => r.url === '/chunked').every((r) => r.body.length <= 1024));
});

test('a flood of oversize requests is refused cheaply and the gateway keeps serving', async () => {
  const big = `GET /flood HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`;
  const answers = await Promise.all(Array.from({ length: 50 }, () => rawRequest(gw.url, big, 200)));
  assert.ok(answers.every((a) => statuses(a)[0] === 431 || a === ''));
  assert.equal((await fetch(`${gw.url}/after-flood`)).status, 200);
});
