import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import type { UpstreamConfig } from '../../src/config/types.js';
import type { GatewayError } from '../../src/errors/gateway-error.js';
import { createLogger } from '../../src/observe/logger.js';
import { Metrics } from '../../src/observe/metrics.js';
import { DeadlineWatch, sweepIntervalFor, type Watched } from '../../src/proxy/deadline-watch.js';
import { Upstream, type UpstreamHead } from '../../src/proxy/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstream.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function upstream(handler: UpstreamHandler): Promise<TestUpstream> {
  const up = await startUpstream(handler);
  cleanups.push(() => up.close());
  return up;
}

async function gateway(url: string, timeouts: Record<string, number>): Promise<TestGateway> {
  const gw = await startGateway({
    upstreams: { u: { targets: [{ url }], timeouts, retries: { attempts: 0 } } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
  });
  cleanups.push(() => gw.close());
  return gw;
}

class Item implements Watched {
  watchPrev: Watched | undefined = undefined;
  watchNext: Watched | undefined = undefined;
  watching = false;
  expiredAt: number | undefined;
  constructor(readonly deadline: number) {}
  isExpired(now: number): boolean {
    return now >= this.deadline;
  }
  expire(now: number): void {
    this.expiredAt = now;
  }
}

describe('deadline watch', () => {
  test('expires each item after its deadline, never before, and stops when nothing is watched', async () => {
    const watch = new DeadlineWatch(10);
    const start = performance.now();
    const items = [40, 80, 120].map((ms) => new Item(start + ms));
    for (const item of items) watch.watch(item);
    const kept = new Item(Infinity);
    watch.watch(kept);
    const dropped = new Item(start + 20);
    watch.watch(dropped);
    watch.unwatch(dropped);
    watch.unwatch(dropped); // idempotent
    assert.equal(watch.size, 4);
    await sleep(250);
    for (const item of items) {
      assert.ok(item.expiredAt !== undefined, 'expired');
      assert.ok(item.expiredAt >= item.deadline, 'never early');
      assert.ok(
        item.expiredAt < item.deadline + 100,
        `at most a few sweeps late (${item.expiredAt - item.deadline} ms)`,
      );
      assert.equal(item.watching, false);
    }
    assert.equal(dropped.expiredAt, undefined, 'an unwatched item is not expired');
    assert.equal(kept.expiredAt, undefined);
    assert.equal(watch.size, 1);
    watch.unwatch(kept);
    watch.sweep();
    assert.equal(watch.size, 0);
    // The timer is gone: the test process would otherwise be kept alive (it is unref'd anyway).
    assert.equal((watch as unknown as { timer: unknown }).timer, undefined);
  });

  test('items unlinked in any order keep the list whole', () => {
    const watch = new DeadlineWatch(1000);
    const items = Array.from({ length: 6 }, () => new Item(Infinity));
    for (const item of items) watch.watch(item);
    for (const i of [0, 5, 2, 3, 1, 4]) {
      watch.unwatch(items[i]!);
      let n = 0;
      for (let it = (watch as unknown as { head: Watched | undefined }).head; it; it = it.watchNext) n++;
      assert.equal(n, watch.size);
    }
    assert.equal(watch.size, 0);
    watch.stop();
  });

  test('the sweep interval is a tenth of the shortest timeout, within 10–500 ms', () => {
    assert.equal(sweepIntervalFor([60_000, 300_000, 0]), 500);
    assert.equal(sweepIntervalFor([200, 300_000, 0]), 20);
    assert.equal(sweepIntervalFor([50]), 10);
    assert.equal(sweepIntervalFor([0, 0]), 500);
  });
});

/** An Upstream outside any gateway, to watch its exchanges directly. */
function standaloneUpstream(config: UpstreamConfig): Upstream {
  return new Upstream(
    'u',
    config,
    (p) => p,
    createLogger({ level: 'silent' }),
    new Metrics({ defaultMetrics: false }),
  );
}

describe('upstream timeouts', () => {
  test('a finished exchange leaves nothing watched (no timer per request)', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const u = standaloneUpstream({ targets: [{ url: up.url }] });
    cleanups.push(() => u.close());
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<string>((resolve, reject) => {
            let status = 0;
            const chunks: Buffer[] = [];
            u.dispatch(
              { method: 'GET', path: '/', headers: ['host', 'x'], body: undefined },
              {
                onHead: (head: UpstreamHead) => (status = head.statusCode),
                onData: (chunk) => chunks.push(chunk) > 0,
                onEnd: () => resolve(`${status} ${Buffer.concat(chunks).toString()}`),
                onError: (error: GatewayError) => reject(error),
              },
            );
            assert.ok(u.deadlines.size > 0, 'in flight: watched');
          }),
      ),
    );
    assert.deepEqual(new Set(answers), new Set(['200 ok']));
    assert.equal(u.deadlines.size, 0);
  });

  test(
    'closing an upstream (a reload) leaves its exchanges in flight timed',
    { timeout: 10_000 },
    async () => {
      const up = await upstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first'); // then stalls
      });
      const u = standaloneUpstream({ targets: [{ url: up.url }], timeouts: { bodyMs: 200 } });
      const outcome = new Promise<string>((resolve) => {
        u.dispatch(
          { method: 'GET', path: '/', headers: ['host', 'x'], body: undefined },
          {
            onHead: () => void u.close(), // the reload retires the upstream mid-answer
            onData: () => true,
            onEnd: () => resolve('ended'),
            onError: (error: GatewayError, afterHead: boolean) => resolve(`${error.code} ${afterHead}`),
          },
        );
      });
      assert.equal(
        await outcome,
        'upstream_timeout true',
        'the stalled body is still cut by its body timeout',
      );
      await u.close();
      assert.equal(u.deadlines.size, 0);
    },
  );

  test('headers timeout: 504 problem, also for a streamed upload', async () => {
    const silent = await upstream(() => undefined); // reads the body, never answers
    const gw = await gateway(silent.url, { headersMs: 200 });
    const started = performance.now();
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { code: string }).code, 'upstream_timeout');
    assert.ok(performance.now() - started >= 200, 'not before the timeout');

    const upload = await fetch(`${gw.url}/upload`, {
      method: 'POST',
      body: Readable.toWeb(Readable.from([Buffer.from('a'), Buffer.from('b')])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(upload.status, 504);
    assert.equal(((await upload.json()) as { code: string }).code, 'upstream_timeout');
  });

  test('body timeout: a body that stalls is cut; one that trickles is not', async () => {
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      if (req.url === '/stall') return; // never ends
      let n = 0;
      const tick = setInterval(() => {
        if (++n < 8) res.write(`${n},`);
        else {
          clearInterval(tick);
          res.end('end');
        }
      }, 80);
    });
    const gw = await gateway(up.url, { bodyMs: 250 });

    const trickle = await fetch(`${gw.url}/trickle`);
    assert.equal(trickle.status, 200);
    assert.equal(await trickle.text(), 'first,1,2,3,4,5,6,7,end', 'idle gaps (80 ms) under the timeout');

    const stall = await fetch(`${gw.url}/stall`);
    assert.equal(stall.status, 200);
    const started = performance.now();
    await assert.rejects(stall.text(), 'the body is cut, not ended as if complete');
    assert.ok(performance.now() - started >= 200);
  });

  test('a request still waiting for a pooled connection gets its 504 at its own deadline', async () => {
    let trickling = true;
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (req.url !== '/slow') {
        res.end('fast');
        return;
      }
      // holds the pool's only connection for 2 s, never idle for long (no body timeout)
      let n = 0;
      const tick = setInterval(() => {
        res.write('.');
        if (++n === 20) {
          clearInterval(tick);
          trickling = false;
          res.end();
        }
      }, 100);
    });
    const gw = await startGateway({
      upstreams: {
        u: {
          targets: [{ url: up.url }],
          connections: 1,
          timeouts: { headersMs: 300 },
          retries: { attempts: 0 },
        },
      },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
    cleanups.push(() => gw.close());
    const slow = fetch(`${gw.url}/slow`).then((res) => res.text());
    await sleep(100);
    const queued = await fetch(`${gw.url}/fast`);
    assert.equal(queued.status, 504);
    assert.equal(((await queued.json()) as { code: string }).code, 'upstream_timeout');
    assert.equal(trickling, true, 'answered before the connection it waited for was free');
    assert.equal((await slow).length, 20);
  });

  test('a slow client pausing the body longer than the body timeout is not cut', async () => {
    const size = 32 * 1024 * 1024;
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      res.end(Buffer.alloc(size, 7));
    });
    const gw = await gateway(up.url, { bodyMs: 200 });
    const { port } = new URL(gw.url);
    const received = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let bytes = 0;
      let paused = false;
      socket.on('data', (chunk) => {
        bytes += chunk.length;
        if (!paused) {
          // Stop reading long enough for the upstream to be paused past its body timeout.
          paused = true;
          socket.pause();
          setTimeout(() => socket.resume(), 800);
        }
      });
      socket.on('end', () => resolve(bytes));
      socket.on('error', reject);
      socket.write(`GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    });
    assert.ok(received > size, `the whole body arrived (${received} bytes with the head)`);
  });
});
