import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LazyRequestBody, takeBuffered } from '../../src/pipeline/lazy-body.js';

describe('takeBuffered', () => {
  test('takes a body whose every byte is buffered, and the stream still ends', async () => {
    const stream = new PassThrough();
    stream.write('{"a":');
    stream.write('1}');
    stream.end();
    const ended = once(stream, 'end');
    const body = takeBuffered(stream, 7);
    assert.equal(body?.toString(), '{"a":1}');
    await ended;
  });

  test('consumes nothing while bytes are still missing', () => {
    const stream = new PassThrough();
    stream.write('{"a":');
    assert.equal(takeBuffered(stream, 7), undefined);
    assert.equal(stream.readableLength, 5);
    assert.equal(stream.readableFlowing, null);
  });

  test('leaves flowing, object-mode and decoding streams to the listeners', () => {
    const flowing = new PassThrough();
    flowing.on('data', () => undefined);
    flowing.pause();
    flowing.write('ab');
    flowing.resume();
    assert.equal(takeBuffered(flowing, 2), undefined);
    const objects = Readable.from([Buffer.from('ab')]);
    assert.equal(takeBuffered(objects, 2), undefined);
    const decoding = new PassThrough();
    decoding.setEncoding('utf8');
    decoding.write('ab');
    assert.equal(takeBuffered(decoding, 2), undefined);
    assert.equal(decoding.readableLength, 2);
  });
});

interface TestServer {
  readonly port: number;
  close(): Promise<void>;
}

async function serve(handler: RequestListener): Promise<TestServer> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The request's body as the pipeline sees it. */
function lazyBody(req: IncomingMessage): LazyRequestBody {
  return new LazyRequestBody(
    req,
    req.headers['content-length'],
    req.headers['transfer-encoding'] !== undefined,
    req.headers['content-type'],
    1024 * 1024,
  );
}

/** A server whose handler reads each request's body through LazyRequestBody after one await. */
function bodyServer(): Promise<TestServer> {
  return serve((req, res) => {
    void (async () => {
      await null; // the pipeline's stages run after at least one await
      const body = lazyBody(req);
      // F: every byte was buffered already (takeBuffered's case), S: the rest was still to come
      const whole = req.readableLength === Number(req.headers['content-length']) ? 'F' : 'S';
      const buffer = await body.read(1024 * 1024);
      res.end(`${whole}${buffer.length}:${buffer.toString('latin1')}`);
    })();
  });
}

/**
 * A server whose handler reads each body straight from the request event, as the pipeline does
 * when no stage awaited before the read: node:http has not pushed the body yet. The answer is
 * marked T when the body was taken without stream listeners, L when `data` listeners read it.
 */
function syncBodyServer(): Promise<TestServer> {
  return serve((req, res) => {
    let listened = false;
    req.on('newListener', (event: string) => {
      if (event === 'data') listened = true;
    });
    const body = lazyBody(req);
    assert.equal(req.readableLength, 0); // nothing pushed yet
    body.read(1024 * 1024).then(
      (buffer) => res.end(`${listened ? 'L' : 'T'}${buffer.length}:${buffer.toString('latin1')}`),
      (error: unknown) => res.end(`error ${(error as Error).message}`),
    );
  });
}

/** Runs `use` on one client connection to `server`, then closes both. */
async function overOneConnection(server: TestServer, use: (socket: Socket) => Promise<void>): Promise<void> {
  try {
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      await use(socket);
    } finally {
      socket.destroy();
    }
  } finally {
    await server.close();
  }
}

function post(body: string): string {
  return `POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** Collects what the server sends until `count` responses ending in their bodies have arrived. */
async function responses(socket: ReturnType<typeof connect>, count: number): Promise<string[]> {
  let text = '';
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString('latin1');
    const bodies = [...text.matchAll(/\r\n\r\n([FSTL]\d+:[^H]*)/g)].map((m) => m[1]!);
    if (
      bodies.length >= count &&
      bodies.every((b) => b.length - b.indexOf(':') - 1 === Number.parseInt(b.slice(1)))
    ) {
      return bodies.slice(0, count);
    }
  }
  return [];
}

describe('LazyRequestBody.read over a real socket', () => {
  test('a body that came with its headers, then a second request on the same connection', async () => {
    await overOneConnection(await bodyServer(), async (socket) => {
      socket.write(post('{"order":1}'));
      socket.write(post('{"order":22}'));
      assert.deepEqual(await responses(socket, 2), ['F11:{"order":1}', 'F12:{"order":22}']);
    });
  });

  test('a body that arrives after its headers, in pieces, is read whole', async () => {
    await overOneConnection(await bodyServer(), async (socket) => {
      const body = '{"notes":"' + 'x'.repeat(3000) + '"}';
      const request = post(body);
      const split = request.indexOf('\r\n\r\n') + 4 + 100;
      socket.write(request.slice(0, split));
      await sleep(30);
      socket.write(request.slice(split, split + 1000));
      await sleep(30);
      socket.write(request.slice(split + 1000));
      socket.write(post('{}'));
      assert.deepEqual(await responses(socket, 2), [`S${body.length}:${body}`, 'F2:{}']);
    });
  });

  test('read from the request event itself: a body that came with its headers is taken at once', async () => {
    await overOneConnection(await syncBodyServer(), async (socket) => {
      socket.write(post('{"order":1}') + post('{"order":22}'));
      assert.deepEqual(await responses(socket, 2), ['T11:{"order":1}', 'T12:{"order":22}']);
    });
  });

  test('read from the request event itself: a body still on its way is read by listeners', async () => {
    await overOneConnection(await syncBodyServer(), async (socket) => {
      const body = '{"notes":"' + 'y'.repeat(2000) + '"}';
      const request = post(body);
      const split = request.indexOf('\r\n\r\n') + 4 + 10;
      socket.write(request.slice(0, split));
      await sleep(30);
      socket.write(request.slice(split));
      assert.deepEqual(await responses(socket, 1), [`L${body.length}:${body}`]);
    });
  });
});
