import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import stage from '../../../src/stages/traffic/rate-limit.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import type { CountersConfig } from '../../../src/counters/config.js';
import type { RedisCounterStore } from '../../../src/counters/redis-store.js';
import { countersServiceFor } from '../../../src/traffic/counters-service.js';
import type { AccessStage } from '../../../src/pipeline/stage.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { fakeBuild, fakeContext, fakeServices } from '../../traffic/fakes.js';

let redis: RedisServer;
const services = fakeServices();
let counters: CountersConfig;

before(async () => {
  redis = await startRedis();
  counters = { type: 'redis', url: redis.url, keyPrefix: 'rlt:', expectedNodes: 2, commandTimeoutMs: 5000 };
});
after(async () => {
  await services.close();
  await redis.stop();
});

async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

const client = (): RedisCounterStore['client'] =>
  (countersServiceFor(services, counters).store as RedisCounterStore).client;

async function build(route: string, section: unknown): Promise<AccessStage> {
  const built = await stage.build(
    section as never,
    fakeBuild(services, { route: { name: route }, config: { counters } }),
  );
  assert.ok(built);
  return built as AccessStage;
}

async function outcome(s: AccessStage, ip = '192.0.2.1'): Promise<string> {
  try {
    await s.run(fakeContext({ ip }));
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    return error.code;
  }
}

test('Redis killed mid-run and restarted: each limit applies its policy, no crash, recovery', async () => {
  const open = await build('open', [
    { name: 'hourly', rate: 10, per: '1h', key: ['ip'], onStoreError: 'fail-open' },
  ]);
  const closed = await build('closed', [
    { name: 'hourly', rate: 10, per: '1h', key: ['ip'], onStoreError: 'fail-closed' },
  ]);
  await waitFor(() => client().status === 'ready');

  // healthy: the shared counters decide
  for (let i = 0; i < 4; i++) assert.equal(await outcome(open), 'ok');
  assert.equal(await outcome(closed), 'ok');
  assert.equal(await redis.cli('exists', 'rlt:{rl:open:hourly:ip:192.0.2.1}'), '1\n');

  await redis.kill();
  await waitFor(() => client().status !== 'ready');

  // fail-closed: 503 store_unavailable with Retry-After, never an accidental admit
  const closedError = await Promise.resolve()
    .then(() => closed.run(fakeContext()))
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  assert.ok(closedError instanceof GatewayError);
  assert.equal(closedError.code, 'store_unavailable');
  assert.equal(closedError.status, 503);
  assert.equal(closedError.headers?.['retry-after'], '1');

  // fail-open: a local limiter sized for this node's share (10 / 2 nodes = 5)
  const local = [];
  for (let i = 0; i < 7; i++) local.push(await outcome(open, '198.51.100.7'));
  assert.deepEqual(local, ['ok', 'ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);

  // a metric and a log line
  const metrics = await services.metrics.registry.getSingleMetricAsString(
    'portcullis_counter_store_errors_total',
  );
  assert.match(metrics, /limit="hourly",policy="fail-open"} 7/);
  assert.match(metrics, /limit="hourly",policy="fail-closed"} 1/);
  assert.ok(services.warnings.some((w) => (w as { event?: string }).event === 'counter_store_error'));

  // restart: the client reconnects with back-off and Redis decides again
  await redis.restart();
  await waitFor(() => client().status === 'ready');
  assert.equal(await outcome(closed), 'ok');
  assert.equal(await outcome(open, '198.51.100.7'), 'ok');
  assert.equal(await redis.cli('exists', 'rlt:{rl:open:hourly:ip:198.51.100.7}'), '1\n');
});

test('two routes with shared: true count against one Redis key', async () => {
  const section = [
    { name: 'tenant', rate: 3, per: '1h', key: ['ip'], shared: true, onStoreError: 'fail-closed' },
  ];
  const a = await build('a', section);
  const b = await build('b', section);
  await waitFor(() => client().status === 'ready');
  const results = [
    await outcome(a, '203.0.113.5'),
    await outcome(b, '203.0.113.5'),
    await outcome(a, '203.0.113.5'),
  ];
  assert.deepEqual(results, ['ok', 'ok', 'ok']);
  assert.equal(await outcome(b, '203.0.113.5'), 'rate_limited');
});
