import { test } from 'node:test';
import assert from 'node:assert/strict';
import stage from '../../../src/stages/traffic/throttle.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import type { AccessStage } from '../../../src/pipeline/stage.js';
import { fakeBuild, fakeContext, fakeServices } from '../../traffic/fakes.js';

async function build(section: unknown): Promise<AccessStage> {
  const built = await stage.build(section as never, fakeBuild(fakeServices()));
  assert.ok(built);
  return built as AccessStage;
}

test('absent section: the stage is absent', async () => {
  assert.equal(await stage.build(undefined, fakeBuild(fakeServices())), undefined);
});

test('burst requests wait their turn at growing delays; past the burst, 429', async () => {
  // one request per hour: the waits are observable from the reservations, never by timing
  const s = await build({ rate: 1, per: '1h', burst: 2, key: ['ip'] });
  const ctxs = [fakeContext(), fakeContext(), fakeContext(), fakeContext()];
  const first = s.run(ctxs[0]!);
  assert.equal(first, undefined, 'the first request is forwarded at once (sync)');
  const second = s.run(ctxs[1]!);
  const third = s.run(ctxs[2]!);
  assert.ok(second instanceof Promise && third instanceof Promise, 'queued requests wait');
  const d2 = ctxs[1]!.logFields.throttleDelayMs as number;
  const d3 = ctxs[2]!.logFields.throttleDelayMs as number;
  assert.ok(d2 > 3_590_000 && d2 <= 3_600_000, String(d2));
  assert.ok(d3 > 7_190_000 && d3 <= 7_200_000, String(d3));
  assert.throws(
    () => s.run(ctxs[3]!),
    (e: unknown) =>
      e instanceof GatewayError && e.code === 'rate_limited' && e.headers?.['retry-after'] === '3600',
  );
  // another key has its own bucket
  assert.equal(s.run(fakeContext({ ip: '198.51.100.1' })), undefined);
});

test('delay: the first N excess requests pass without waiting (nginx delay=)', async () => {
  const s = await build({ rate: 1, per: '1h', burst: 3, delay: 2, key: ['ip'] });
  const results = [1, 2, 3, 4].map(() => s.run(fakeContext()));
  assert.deepEqual(
    results.map((r) => r instanceof Promise),
    [false, false, false, true],
  );
  assert.throws(() => s.run(fakeContext()), GatewayError);
});

test('a queued request is released after its delay and continues', async () => {
  const s = await build({ rate: 50, per: '1s', burst: 5, key: ['ip'] });
  const ip = '203.0.113.9';
  const runs = Array.from({ length: 4 }, () => s.run(fakeContext({ ip })));
  assert.equal(runs[0], undefined);
  // the throttle's timers are unref'd (a live server holds the loop open); stand in for it
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(keepAlive);
  }
});

test('maxWaiting bounds the requests sleeping in one process', async () => {
  const s = await build({ rate: 1, per: '1h', burst: 100, maxWaiting: 2, key: ['ip'] });
  s.run(fakeContext());
  assert.ok(s.run(fakeContext()) instanceof Promise);
  assert.ok(s.run(fakeContext()) instanceof Promise);
  assert.throws(
    () => s.run(fakeContext()),
    (e: unknown) => e instanceof GatewayError && e.reason === 'throttle_queue_full',
  );
});
