// WebSocket proxying: handshakes go through the route's access stages, then a tunnel to a real
// `ws` upstream; refusals are problem+json over HTTP/1.1 and never reach the upstream.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket, WebSocketServer } from 'ws';
import { createTestPki } from '../authn/client-cert-fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const SECRET = 'a websocket test secret that is long enough!!';
const ISS = 'https://idp.test';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface WsUpstream {
  readonly url: string;
  readonly port: number;
  /** Handshakes that reached the upstream (request heads). */
  readonly handshakes: IncomingMessage[];
  /** TCP connections the upstream accepted. */
  connections(): number;
  readonly wss: WebSocketServer;
  readonly server: Server;
}

/** A real WebSocket server: echoes text as `echo:<text>`, binary as is, and greets first. */
async function wsUpstream(): Promise<WsUpstream> {
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('websocket only');
  });
  const wss = new WebSocketServer({ server });
  const handshakes: IncomingMessage[] = [];
  let connections = 0;
  server.on('connection', () => connections++);
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    ws.send('hello from upstream');
    ws.on('message', (data, isBinary) =>
      ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${port}`, port, handshakes, connections: () => connections, wss, server };
}

async function gateway(
  upstreamUrl: string,
  routes: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
) {
  const gw = await startGateway({
    upstreams: { u: { targets: [{ url: upstreamUrl }] } },
    routes: routes.map((r) => ({ upstream: 'u', ...r })),
    ...extra,
  });
  cleanups.push(() => gw.close());
  return gw;
}

const wsUrl = (gw: TestGateway, path: string) => gw.url.replace(/^http/, 'ws') + path;

/** Opens a client and collects its messages; resolves once open. */
async function openClient(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  const ws = new WebSocket(url, options);
  const messages: string[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(data.toString());
    for (const w of waiters.splice(0)) w();
  });
  await once(ws, 'open');
  const next = async (count: number) => {
    while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return messages.slice(0, count);
  };
  return { ws, messages, next };
}

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** The gateway closed the connection after answering. */
  readonly closed: boolean;
}

/** Sends a handshake on a raw socket and reads the answer until the gateway closes. */
async function rawHandshake(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const all = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...headers,
  };
  socket.write(
    `GET ${path} HTTP/1.1\r\n` +
      Object.entries(all)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
  );
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const closed = await Promise.race([
    once(socket, 'close').then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
  ]);
  socket.destroy();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), head, body, closed };
}

const problemCode = (answer: RawAnswer) => (JSON.parse(answer.body) as { code: string }).code;

describe('WebSocket proxying', () => {
  test('messages flow both ways through the gateway, with forwarding headers upstream', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      { name: 'chat', match: { pathPrefix: '/chat' }, public: true, websocket: true, stripPrefix: '/chat' },
    ]);
    const { ws, next } = await openClient(wsUrl(gw, '/chat/room?x=1'), {
      headers: { 'x-request-id': 'ws-test-1', 'x-forwarded-for': '6.6.6.6' },
    });
    assert.deepEqual(await next(1), ['hello from upstream']);
    ws.send('ping');
    ws.send(Buffer.from([1, 2, 3]));
    const got = await next(3);
    assert.equal(got[1], 'echo:ping');
    assert.deepEqual([...Buffer.from(got[2]!, 'latin1')], [1, 2, 3]);
    const seen = up.handshakes[0]!;
    assert.equal(seen.url, '/room?x=1');
    assert.equal(seen.headers['x-request-id'], 'ws-test-1');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot spoof it');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers.upgrade, 'websocket');
    assert.ok(seen.headers['sec-websocket-key']);
    const access = gw.logs.filter((l) => l.type === 'access' && l.route === 'chat');
    assert.deepEqual(
      access.map((l) => [l.status, l.requestId]),
      [[101, 'ws-test-1']],
      'the handshake is logged once, as a 101',
    );
    ws.close();
    await once(ws, 'close');
  });

  test('TLS listeners (HTTP/2 with HTTP/1.1 fallback) take handshakes; a redirecting listener redirects them', async () => {
    const up = await wsUpstream();
    const gw = await startGateway({
      listeners: [
        { host: '127.0.0.1', port: 0, tls: { devCertificate: true } },
        { host: '127.0.0.1', port: 0, redirectToHttps: { port: 8443 } },
      ],
      upstreams: { u: { targets: [{ url: up.url }] } },
      routes: [{ name: 'chat', match: { pathPrefix: '/' }, upstream: 'u', public: true, websocket: true }],
    });
    cleanups.push(() => gw.close());
    const { ws, next } = await openClient(gw.urls[0]!.replace(/^https/, 'wss') + '/chat', {
      rejectUnauthorized: false,
    });
    assert.deepEqual(await next(1), ['hello from upstream']);
    assert.equal(up.handshakes[0]!.headers['x-forwarded-proto'], 'https');
    ws.close();
    await once(ws, 'close');
    // A page of the same host over plain http is another origin for the wss endpoint.
    const host = new URL(gw.urls[0]!).host;
    const secure = await openClient(gw.urls[0]!.replace(/^https/, 'wss') + '/chat', {
      rejectUnauthorized: false,
      origin: `https://${host}`,
    });
    assert.deepEqual(await secure.next(1), ['hello from upstream']);
    secure.ws.close();
    await once(secure.ws, 'close');
    await assert.rejects(
      openClient(gw.urls[0]!.replace(/^https/, 'wss') + '/chat', {
        rejectUnauthorized: false,
        origin: `http://${host}`,
      }),
      /403/,
    );
    assert.equal(up.handshakes.length, 2, 'the refused handshake never reached the upstream');
    // the redirecting listener answers a handshake as it answers requests: 308 to HTTPS, then close
    const redirecting = await rawHandshake(Number(new URL(gw.urls[1]!).port), '/chat?room=1');
    assert.equal(redirecting.status, 308);
    assert.match(redirecting.head, /\r\nlocation: https:\/\/127\.0\.0\.1:8443\/chat\?room=1\r\n/i);
    assert.ok(redirecting.closed);
    assert.equal(up.handshakes.length, 2);
  });

  test('stopping the gateway cuts open tunnels at once', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      { name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true },
    ]);
    const { ws, next } = await openClient(wsUrl(gw, '/chat'));
    await next(1);
    const upstreamSide = [...up.wss.clients][0]!;
    const closed = Promise.all([once(ws, 'close'), once(upstreamSide, 'close')]);
    const started = Date.now();
    await gw.gateway.stop(); // the default drain timeout (15 s)
    await closed;
    assert.ok(Date.now() - started < 5000, 'tunnels must not hold the shutdown until its timeout');
  });

  test('a route without websocket refuses the upgrade with 403 problem+json, then closes', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [{ name: 'api', match: { pathPrefix: '/' }, public: true }]);
    const answer = await rawHandshake(Number(new URL(gw.url).port), '/chat');
    assert.equal(answer.status, 403);
    assert.match(answer.head, /content-type: application\/problem\+json/i);
    assert.match(answer.head, /x-request-id: /i);
    assert.equal(problemCode(answer), 'websocket_not_enabled');
    assert.ok(answer.closed, 'the connection must close after the refusal');
    assert.equal(up.connections(), 0, 'nothing may reach the upstream');
    // A ws client sees the refusal too.
    const ws = new WebSocket(wsUrl(gw, '/chat'));
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(res.statusCode, 403);
    res.resume();
    ws.terminate();
  });

  test('an unauthenticated handshake gets 401 and the upstream sees no connection', async () => {
    const up = await wsUpstream();
    const gw = await gateway(
      up.url,
      [
        {
          name: 'chat',
          match: { pathPrefix: '/chat' },
          websocket: true,
          authentication: { anyOf: ['jwt:corp'] },
          authorization: { roles: { authenticated: { permissions: ['*'] } } },
        },
      ],
      {
        authn: {
          jwt: {
            issuers: { corp: { issuer: ISS, audience: 'chat', algorithms: ['HS256'], secret: SECRET } },
          },
        },
      },
    );
    const port = Number(new URL(gw.url).port);
    const anonymous = await rawHandshake(port, '/chat');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.head, /www-authenticate: Bearer/i);
    assert.equal(problemCode(anonymous), 'unauthenticated');
    assert.ok(anonymous.closed);
    const forged = await rawHandshake(port, '/chat', { authorization: 'Bearer not.a.jwt' });
    assert.equal(forged.status, 401);
    assert.equal(up.connections(), 0, 'a refused handshake must never be forwarded');

    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISS)
      .setAudience('chat')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    const { ws, next } = await openClient(wsUrl(gw, '/chat'), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.deepEqual(await next(1), ['hello from upstream']);
    ws.close();
    await once(ws, 'close');
    assert.equal(up.handshakes.length, 1);
  });

  test('a rate-limited handshake gets 429 and is not forwarded', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      {
        name: 'chat',
        match: { pathPrefix: '/' },
        public: true,
        websocket: true,
        rateLimits: [{ name: 'handshakes', rate: 1, per: '1h', key: ['ip'] }],
      },
    ]);
    const first = await openClient(wsUrl(gw, '/chat'));
    await first.next(1);
    const second = await rawHandshake(Number(new URL(gw.url).port), '/chat');
    assert.equal(second.status, 429);
    assert.equal(problemCode(second), 'rate_limited');
    assert.match(second.head, /retry-after: \d+/i);
    assert.equal(up.handshakes.length, 1, 'only the first handshake reached the upstream');
    first.ws.close();
    await once(first.ws, 'close');
  });

  test('a TLS upstream is verified with the upstream tls settings (wss behind the gateway)', async () => {
    const pki = createTestPki();
    cleanups.push(() => pki.cleanup());
    const server = createHttpsServer({
      cert: pki.server.cert,
      key: readFileSync(join(pki.dir, 'server.key')),
    });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) =>
      ws.send(`tls ${String((req.socket as { encrypted?: boolean }).encrypted)}`),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const route = { name: 'chat', match: { pathPrefix: '/' }, upstream: 'u', public: true, websocket: true };
    const untrusted = await startGateway({ upstreams: { u: { targets: [{ url }] } }, routes: [route] });
    cleanups.push(() => untrusted.close());
    const refused = await rawHandshake(Number(new URL(untrusted.url).port), '/chat');
    assert.equal(refused.status, 502, 'a self-signed upstream is refused by default');
    const trusted = await startGateway({
      upstreams: { u: { targets: [{ url }], tls: { ca: pki.server.certFile } } },
      routes: [route],
    });
    cleanups.push(() => trusted.close());
    const { ws, next } = await openClient(wsUrl(trusted, '/chat'));
    assert.deepEqual(await next(1), ['tls true']);
    ws.close();
    await once(ws, 'close');
  });

  test('cross-site handshakes are refused: same origin by default, else allowedOrigins', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      { name: 'same', match: { pathPrefix: '/same' }, public: true, websocket: true },
      {
        name: 'listed',
        match: { pathPrefix: '/listed' },
        public: true,
        websocket: { allowedOrigins: ['https://app.example.com'] },
      },
    ]);
    const port = Number(new URL(gw.url).port);
    for (const [path, origin] of [
      ['/same', 'https://evil.example'],
      ['/same', 'null'],
      ['/same', `http://127.0.0.1:${port + 1}`],
      // same host and port, other scheme: another origin (a plain-http page against wss, say)
      ['/same', `https://127.0.0.1:${port}`],
      ['/listed', 'https://evil.example'],
      ['/listed', `http://127.0.0.1:${port}`],
      ['/listed', 'https://app.example.com.evil.example'],
    ] as const) {
      const answer = await rawHandshake(port, path, { origin });
      assert.equal(answer.status, 403, `${path} from ${origin}`);
      assert.equal(problemCode(answer), 'websocket_origin_forbidden');
      assert.ok(answer.closed);
    }
    assert.equal(up.connections(), 0);
    const same = await openClient(wsUrl(gw, '/same'), { origin: `http://127.0.0.1:${port}` });
    assert.deepEqual(await same.next(1), ['hello from upstream']);
    same.ws.close();
    const listed = await openClient(wsUrl(gw, '/listed'), { origin: 'https://APP.example.com' });
    assert.deepEqual(await listed.next(1), ['hello from upstream']);
    listed.ws.close();
    // Non-browser clients send no Origin.
    const bare = await openClient(wsUrl(gw, '/listed'));
    bare.ws.close();
    await once(bare.ws, 'close');
  });

  test('closing either side closes the other', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      { name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true },
    ]);
    // The client closes: the upstream's socket closes.
    const first = await openClient(wsUrl(gw, '/a'));
    await first.next(1);
    const upstreamSide = [...up.wss.clients][0]!;
    const upstreamClosed = once(upstreamSide, 'close');
    first.ws.terminate(); // an abrupt TCP close, not a close frame
    await upstreamClosed;
    // The upstream closes: the client's socket closes.
    const second = await openClient(wsUrl(gw, '/b'));
    await second.next(1);
    const clientClosed = once(second.ws, 'close');
    for (const c of up.wss.clients) c.terminate();
    await clientClosed;
    // A clean close handshake passes through.
    const third = await openClient(wsUrl(gw, '/c'));
    await third.next(1);
    const upstreamThird = [...up.wss.clients][0]!;
    const code = once(upstreamThird, 'close');
    third.ws.close(4001, 'bye');
    const [closeCode, reason] = (await code) as [number, Buffer];
    assert.equal(closeCode, 4001);
    assert.equal(reason.toString(), 'bye');
  });

  test('an upstream that is down or refuses the handshake gives 502', async () => {
    const up = await wsUpstream();
    const port = up.port;
    await new Promise<void>((resolve) => {
      up.server.close(() => resolve());
    });
    const down = await gateway(`http://127.0.0.1:${port}`, [
      { name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true },
    ]);
    const answer = await rawHandshake(Number(new URL(down.url).port), '/chat');
    assert.equal(answer.status, 502);
    assert.equal(problemCode(answer), 'upstream_unavailable');
    assert.ok(answer.closed);

    const plain = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('I do not speak websocket');
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    cleanups.push(() => {
      plain.closeAllConnections();
      plain.close();
    });
    const refusing = await gateway(`http://127.0.0.1:${(plain.address() as AddressInfo).port}`, [
      { name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true },
    ]);
    const refused = await rawHandshake(Number(new URL(refusing.url).port), '/chat');
    assert.equal(refused.status, 502);
    assert.equal(problemCode(refused), 'websocket_upstream_refused');
    assert.doesNotMatch(refused.body, /do not speak/);
  });

  test('malformed handshakes are refused before the upstream', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      { name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true },
    ]);
    const port = Number(new URL(gw.url).port);
    for (const headers of [
      { 'sec-websocket-key': 'short' },
      { 'sec-websocket-version': '8' },
      { 'content-length': '5' },
    ]) {
      const answer = await rawHandshake(port, '/chat', headers);
      assert.equal(answer.status, 400, JSON.stringify(headers));
      assert.equal(problemCode(answer), 'bad_request');
    }
    assert.equal(up.connections(), 0);
  });

  test('idle tunnels are closed, and maxConnections caps concurrent tunnels', async () => {
    const up = await wsUpstream();
    const gw = await gateway(
      up.url,
      [
        { name: 'idle', match: { pathPrefix: '/idle' }, public: true, websocket: { idleTimeoutSec: 1 } },
        { name: 'capped', match: { pathPrefix: '/capped' }, public: true, websocket: { maxConnections: 1 } },
      ],
      { admin: { host: '127.0.0.1', port: 0, token: randomBytes(32).toString('base64url') } },
    );
    const tunnels = async (): Promise<string> => {
      const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('portcullis_websocket_tunnels{'))
        .join(' ');
    };
    const idle = await openClient(wsUrl(gw, '/idle'));
    await idle.next(1);
    const started = Date.now();
    await once(idle.ws, 'close');
    const waited = Date.now() - started;
    assert.ok(waited >= 800 && waited < 5000, `closed after ${waited} ms`);

    const first = await openClient(wsUrl(gw, '/capped'));
    await first.next(1);
    assert.equal(await tunnels(), 'portcullis_websocket_tunnels{route="capped"} 1');
    const answer = await rawHandshake(Number(new URL(gw.url).port), '/capped');
    assert.equal(answer.status, 503);
    assert.equal(problemCode(answer), 'concurrency_limited');
    first.ws.close();
    await once(first.ws, 'close');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(await tunnels(), /portcullis_websocket_tunnels\{route="capped"\} 0/);
    const again = await openClient(wsUrl(gw, '/capped'));
    await again.next(1);
    again.ws.close();
  });

  test("an open tunnel holds its route's concurrency slot until it closes", async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [
      {
        name: 'chat',
        match: { pathPrefix: '/' },
        public: true,
        websocket: true,
        concurrency: { max: 1, scope: 'route' },
      },
    ]);
    const port = Number(new URL(gw.url).port);
    const tunnel = await openClient(wsUrl(gw, '/chat'));
    await tunnel.next(1);
    // long after the handshake's response finished, the tunnel still counts
    await new Promise((resolve) => setTimeout(resolve, 100));
    const handshake = await rawHandshake(port, '/chat');
    assert.equal(handshake.status, 503);
    assert.equal(problemCode(handshake), 'concurrency_limited');
    const plain = await fetch(`${gw.url}/chat`);
    assert.equal(plain.status, 503);
    assert.equal(((await plain.json()) as { code: string }).code, 'concurrency_limited');
    assert.equal(up.handshakes.length, 1);

    tunnel.ws.close();
    await once(tunnel.ws, 'close');
    let status = 0;
    for (let i = 0; i < 50 && status !== 426; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const res = await fetch(`${gw.url}/chat`);
      await res.arrayBuffer();
      status = res.status;
    }
    // the slot came back: the request reached the upstream (which answers plain HTTP with 426)
    assert.equal(status, 426);
    const again = await openClient(wsUrl(gw, '/chat'));
    await again.next(1);
    again.ws.close();
    await once(again.ws, 'close');
  });

  test('bytes relayed each way are counted per route, while tunnels are open and after', async () => {
    const up = await wsUpstream();
    const gw = await gateway(
      up.url,
      [{ name: 'chat', match: { pathPrefix: '/' }, public: true, websocket: true }],
      { admin: { host: '127.0.0.1', port: 0, token: randomBytes(32).toString('base64url') } },
    );
    const bytes = async (): Promise<{ fromClient: number; fromUpstream: number }> => {
      const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      const read = (direction: string) =>
        Number(
          new RegExp(
            `portcullis_websocket_bytes_total\\{route="chat",direction="${direction}"\\} (\\d+)`,
          ).exec(text)?.[1] ?? 'NaN',
        );
      return { fromClient: read('from_client'), fromUpstream: read('from_upstream') };
    };
    const client = await openClient(wsUrl(gw, '/chat'));
    await client.next(1);
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 3; i++) client.ws.send(payload);
    await client.next(4);
    // 3 masked frames of 1000 bytes (8 bytes of framing each); 3 echoes of 1005 bytes (4 each)
    const open = await bytes();
    assert.ok(
      open.fromClient >= 3024 && open.fromClient < 3100,
      `from client while open: ${open.fromClient}`,
    );
    assert.ok(
      open.fromUpstream >= 3027 && open.fromUpstream < 3100,
      `from upstream while open: ${open.fromUpstream}`,
    );
    client.ws.close();
    await once(client.ws, 'close');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = await bytes();
    assert.ok(
      closed.fromClient >= open.fromClient && closed.fromClient < 3150,
      `after close: ${closed.fromClient}`,
    );
    assert.ok(closed.fromUpstream >= open.fromUpstream && closed.fromUpstream < 3150);
  });

  test('least-connections balancing counts open tunnels, not just handshakes', async () => {
    const a = await wsUpstream();
    const b = await wsUpstream();
    const gw = await startGateway({
      upstreams: { u: { targets: [{ url: a.url }, { url: b.url }], balance: 'least_connections' } },
      routes: [{ name: 'chat', match: { pathPrefix: '/' }, upstream: 'u', public: true, websocket: true }],
    });
    cleanups.push(() => gw.close());
    const open = [];
    for (let i = 0; i < 4; i++) {
      const client = await openClient(wsUrl(gw, '/chat'));
      await client.next(1);
      open.push(client);
    }
    assert.deepEqual(
      [a.handshakes.length, b.handshakes.length],
      [2, 2],
      'open tunnels spread over both targets',
    );
    // two tunnels on `a` close: the next two go there
    for (const [i, client] of open.entries()) {
      if (i % 2 === 0) {
        client.ws.close();
        await once(client.ws, 'close');
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 2; i++) {
      const client = await openClient(wsUrl(gw, '/chat'));
      await client.next(1);
      open.push(client);
    }
    assert.deepEqual([a.handshakes.length, b.handshakes.length], [4, 2]);
    for (const client of open) client.ws.close();
  });

  test('a malformed websocket section stops the load with a precise message', async () => {
    for (const websocket of [
      'yes',
      { allowedOrigins: ['app.example.com'] },
      { idleTimeoutSec: 0 },
      { bogus: 1 },
    ]) {
      await assert.rejects(
        startGateway({
          upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } },
          routes: [{ name: 'chat', match: { pathPrefix: '/' }, upstream: 'u', public: true, websocket }],
        }),
        /websocket/,
        JSON.stringify(websocket),
      );
    }
  });

  test('an upgrade to another protocol (h2c) is ignored: an ordinary answer, then close', async () => {
    const up = await wsUpstream();
    const gw = await gateway(up.url, [{ name: 'api', match: { pathPrefix: '/' }, public: true }]);
    const answer = await rawHandshake(Number(new URL(gw.url).port), '/plain', {
      upgrade: 'h2c',
      connection: 'Upgrade, HTTP2-Settings',
      'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
    });
    assert.equal(answer.status, 426, 'the upstream answered the request as a plain one');
    assert.match(answer.body, /websocket only/);
    assert.ok(answer.closed);
  });
});
