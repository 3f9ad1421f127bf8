import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import stage from '../../../src/stages/traffic/concurrency.js';
import releaseStage from '../../../src/stages/traffic/concurrency-release.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import type { AccessStage, LogStage, ResponseSummary } from '../../../src/pipeline/stage.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import type { ConcurrencyLimiter } from '../../../src/traffic/concurrency-limiter.js';
import type { Services } from '../../../src/pipeline/services.js';
import { fakeBuild, fakeContext, fakeServices } from '../../traffic/fakes.js';

const summary: ResponseSummary = {
  status: 200,
  bytesSent: 0,
  bytesReceived: 0,
  gatewayNs: 0n,
  upstreamNs: 0n,
  totalNs: 0n,
  aborted: false,
};

function request(): { ctx: RequestContext; socket: EventEmitter } {
  const socket = new EventEmitter();
  const ctx = fakeContext();
  return { ctx: { ...ctx, req: { socket } as unknown as RequestContext['req'] }, socket };
}

async function setup(
  config: unknown,
  services: Services = fakeServices(),
): Promise<{ s: AccessStage; log: LogStage; limiter: ConcurrencyLimiter; services: Services }> {
  const build = fakeBuild(services, { route: { upstream: 'orders' } });
  const s = (await stage.build(config as never, build)) as AccessStage;
  const log = (await releaseStage.build(config, build)) as LogStage;
  const limiter = services.shared.get('traffic.concurrency:upstream:orders') as ConcurrencyLimiter;
  return { s, log, limiter, services };
}

test('absent section: both stages are absent', async () => {
  const build = fakeBuild(fakeServices());
  assert.equal(await stage.build(undefined, build), undefined);
  assert.equal(await releaseStage.build(undefined, build), undefined);
});

test('slots, a bounded queue, 503 beyond it, release on response end', async () => {
  const { s, log, limiter } = await setup({ max: 2, queue: 1, queueTimeoutMs: 60_000 });
  const a = request();
  const b = request();
  const c = request();
  assert.equal(s.run(a.ctx), undefined);
  assert.equal(s.run(b.ctx), undefined);
  const waiting = s.run(c.ctx);
  assert.ok(waiting instanceof Promise);
  assert.throws(
    () => s.run(request().ctx),
    (e: unknown) =>
      e instanceof GatewayError &&
      e.code === 'concurrency_limited' &&
      e.status === 503 &&
      e.headers?.['retry-after'] === '1',
  );
  assert.equal(limiter.inFlight, 2);
  log.run(a.ctx, summary);
  await waiting;
  assert.equal(limiter.inFlight, 2);
  assert.equal(limiter.queued, 0);
  log.run(b.ctx, summary);
  log.run(c.ctx, summary);
  assert.equal(limiter.inFlight, 0);
});

test('attack: clients that abort never leak slots (released once, not twice)', async () => {
  const { s, log, limiter } = await setup({ max: 3 });
  for (let round = 0; round < 50; round++) {
    const reqs = [request(), request(), request()];
    for (const r of reqs) assert.equal(s.run(r.ctx), undefined);
    for (const r of reqs) r.socket.emit('close');
    // the log phase may still run after an abort: it must not release a second time
    for (const r of reqs) log.run(r.ctx, { ...summary, aborted: true });
    assert.equal(limiter.inFlight, 0);
  }
  for (const r of [request(), request()]) assert.equal(s.run(r.ctx), undefined);
  assert.equal(limiter.inFlight, 2);
});

test('a queued request that waits too long gets 503', async () => {
  const { s } = await setup({ max: 1, queue: 5, queueTimeoutMs: 10 });
  assert.equal(s.run(request().ctx), undefined);
  await assert.rejects(
    Promise.resolve(s.run(request().ctx)),
    (e: unknown) => e instanceof GatewayError && e.reason === 'concurrency_wait_timeout',
  );
});

test('routes on one upstream share the limiter and must agree on it', async () => {
  const services = fakeServices();
  const build = fakeBuild(services, { route: { upstream: 'orders' } });
  await stage.build({ max: 2 } as never, build);
  assert.throws(() => stage.build({ max: 3 } as never, build), /same concurrency limits/);
});
