import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});

interface Trickle {
  readonly socket: Socket;
  /** Resolves with everything the server sent once it closes the connection. */
  readonly closed: Promise<string>;
  stop(): void;
}

/** Sends `head` at once, then one byte of `drip` every `everyMs`, like a slowloris client. */
function trickle(head: string, drip: string, everyMs: number): Trickle {
  const { port } = new URL(gw.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  let i = 0;
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.once('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (socket.destroyed) return;
      socket.write(drip[i % drip.length] ?? 'x');
      i++;
    }, everyMs);
  });
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { socket, closed, stop: () => clearInterval(timer) };
}

test('slowloris: headers that never finish are cut (408), however steadily they drip', async () => {
  const t = trickle('GET / HTTP/1.1\r\nHost: a\r\n', 'X-Padding-Header: aaaaaaaa\r\n', 50);
  const answer = await t.closed;
  assert.ok(answer === '' || /^HTTP\/1\.1 408 /.test(answer), answer);
  assert.equal(upstream.requests.length, 0);
});

test('slow body: a body trickled slower than the request timeout is cut and never forwarded whole', async () => {
  const before = upstream.requests.length;
  const t = trickle('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n', 'a', 20);
  const answer = await t.closed;
  assert.ok(answer === '' || /^HTTP\/1\.1 (408|400|502) /.test(answer), answer);
  // the upstream never sees a complete 100000-byte body
  const complete = upstream.requests.slice(before).filter((r) => r.body.length === 100000);
  assert.equal(complete.length, 0);
});

test('idle keep-alive connections are closed after keepAliveTimeoutMs', async () => {
  const { port } = new URL(gw.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  assert.match(received, /^HTTP\/1\.1 200 /);
});

test('many slow clients at once do not stop a normal client from being served', async () => {
  const slow = Array.from({ length: 20 }, () => trickle('GET / HTTP/1.1\r\nHost: a\r\n', 'X-A: b\r\n', 100));
  const res = await fetch(`${gw.url}/normal`);
  assert.equal(res.status, 200);
  await Promise.all(slow.map((t) => t.closed));
});
