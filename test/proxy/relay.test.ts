// The upstream exchange and its relay to the client: what happens to bodies nobody wants, to
// upstreams whose client went away, and to slow readers.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstream.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** An upstream that counts the TCP connections it accepted and the ones closed. */
async function countingUpstream(
  handler: UpstreamHandler,
): Promise<TestUpstream & { opened: () => number; closed: () => number }> {
  const up = await startUpstream(handler);
  let opened = 0;
  let closed = 0;
  up.server.on('connection', (socket: Socket) => {
    opened++;
    socket.on('close', () => closed++);
  });
  cleanups.push(() => up.close());
  return Object.assign(up, { opened: () => opened, closed: () => closed });
}

async function gateway(upstreamUrl: string, route: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    upstreams: { u: { targets: [{ url: upstreamUrl }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true, ...route }],
  });
  cleanups.push(() => gw.close());
  return gw;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('relaying upstream answers', () => {
  test('a replaced 5xx body is drained, not sent, and the upstream connection is kept', async () => {
    const secret = 'Traceback: at db.query (password=hunter2)';
    const up = await countingUpstream((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'retry-after': '7' });
      res.end(secret);
    });
    const gw = await gateway(up.url);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/boom`);
      const text = await res.text();
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(res.headers.get('retry-after'), '7');
      assert.ok(!text.includes('hunter2'), 'the upstream body must not leak');
    }
    // Sequential requests over a kept connection: one upstream connection, none closed.
    assert.equal(up.opened(), 1);
    assert.equal(up.closed(), 0);
  });

  test('a huge unwanted 5xx body is cut, not read to the end', async () => {
    let written = 0;
    const up = await countingUpstream((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (written < 256 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const gw = await gateway(up.url);
    const res = await fetch(`${gw.url}/huge`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    await res.text();
    await sleep(200);
    assert.ok(written < 32 * 1024 * 1024, `upstream wrote ${written} bytes: the body was not cut`);
    // The GET is retried once on 503 (default retries): both answers are cut, not drained.
    assert.equal(up.requests.length, 2);
    assert.equal(up.closed(), 2, 'the upstream connections are closed instead of drained');
  });

  test('a client that goes away mid-body makes the gateway close the upstream exchange', async () => {
    let upstreamClosed = false;
    const up = await countingUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(16 * 1024, 1));
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 2)), 10);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const gw = await gateway(up.url);
    await new Promise<void>((resolve, reject) => {
      const req = request(`${gw.url}/stream`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      setTimeout(() => reject(new Error('no data')), 5_000).unref();
      req.end();
    });
    for (let i = 0; i < 50 && !upstreamClosed; i++) await sleep(20);
    assert.ok(upstreamClosed, 'the upstream response was not aborted');
  });

  test('a slow reader gets the whole body: back-pressure pauses the upstream, nothing is lost', async () => {
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = i % 251;
    const up = await countingUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      res.end(body);
    });
    const gw = await gateway(up.url);
    const received = await new Promise<Buffer>((resolve, reject) => {
      request(`${gw.url}/big`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          // Read slowly: the gateway must buffer little and wait.
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(received.length, size);
    assert.ok(received.equals(body));
  });

  test('a response stage that reads the body sees all of it, and the client gets it once', async () => {
    const up = await countingUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Several chunks, the last after a pause: the stage must wait for the end.
      res.write('{"id": 1, "card": "4111 1111 1111 1111", ');
      setTimeout(() => res.end('"name": "x"}'), 30);
    });
    const gw = await gateway(up.url, {
      sensitiveData: { detectors: ['card'] },
    });
    const res = await fetch(`${gw.url}/user`);
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200);
    assert.equal(json.id, 1);
    assert.equal(json.name, 'x');
    assert.equal(typeof json.card, 'string');
    assert.ok(!(json.card as string).includes('4111 1111 1111 1111'), 'the card number is masked');
  });

  test('a small request body is forwarded whole, and makes an idempotent PUT retryable', async () => {
    let calls = 0;
    const first = await countingUpstream((_req, res) => {
      calls++;
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('busy');
    });
    const second = await countingUpstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    });
    const gw = await startGateway({
      upstreams: { u: { targets: [{ url: first.url }, { url: second.url }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
    cleanups.push(() => gw.close());
    const payload = Buffer.alloc(40 * 1024, 7);
    const res = await fetch(`${gw.url}/doc`, { method: 'PUT', body: payload });
    const echoed = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.ok(echoed.equals(payload), 'the retried PUT carries the whole body');
    assert.equal(calls, 1);
    assert.equal(second.requests[0]?.headers['content-length'], String(payload.length));
  });
});
