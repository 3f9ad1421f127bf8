import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;
const open: Socket[] = [];

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    limits: { maxConnectionsPerIp: 3, maxConnections: 5, keepAliveTimeoutMs: 30_000 },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  for (const s of open) s.destroy();
  await gw?.close();
  await upstream?.close();
});

/**
 * Opens a keep-alive connection from `from` and sends one request. Resolves 'served' once a
 * response arrives (the connection stays open), 'refused' when closed without one.
 */
function attempt(from: string): Promise<'served' | 'refused'> {
  const { port } = new URL(gw.url);
  const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: from });
  open.push(socket);
  return new Promise((resolve) => {
    let data = '';
    socket.on('error', () => undefined);
    socket.once('connect', () => socket.write('GET /c HTTP/1.1\r\nHost: a\r\n\r\n'));
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n/.test(data)) resolve('served');
    });
    socket.once('close', () => resolve(data === '' ? 'refused' : 'served'));
  });
}

test('connections per client IP are capped; other clients are unaffected', async () => {
  const a = [];
  for (let i = 0; i < 3; i++) a.push(await attempt('127.0.0.1'));
  assert.deepEqual(a, ['served', 'served', 'served']);
  assert.equal(await attempt('127.0.0.1'), 'refused');
  assert.equal(await attempt('127.0.0.2'), 'served');
});

test('total connections are capped, and capacity returns when connections close', async () => {
  // 3 from .1 and 1 from .2 are open: one more fits
  assert.equal(await attempt('127.0.0.3'), 'served');
  assert.equal(await attempt('127.0.0.4'), 'refused');
  const first = open[0] as Socket;
  const closed = new Promise((resolve) => first.once('close', resolve));
  first.destroy();
  await closed;
  let result: 'served' | 'refused' = 'refused';
  // the server learns about the close asynchronously
  while (result === 'refused') result = await attempt('127.0.0.4');
  assert.equal(result, 'served');
});
