import { test } from 'node:test';
import assert from 'node:assert/strict';
import stage from '../../../src/stages/traffic/rate-limit.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import type { AccessStage } from '../../../src/pipeline/stage.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import { fakeBuild, fakeContext, fakeServices } from '../../traffic/fakes.js';

async function build(section: unknown, config: Record<string, unknown> = {}): Promise<AccessStage> {
  const services = fakeServices();
  const built = await stage.build(section as never, fakeBuild(services, { config }));
  assert.ok(built);
  return built as AccessStage;
}

function attempt(s: AccessStage, ctx: RequestContext): GatewayError | undefined {
  try {
    const r = s.run(ctx);
    assert.ok(!(r instanceof Promise), 'memory limits answer synchronously');
    return undefined;
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
}

test('absent section: the stage is absent', async () => {
  assert.equal(await stage.build(undefined, fakeBuild(fakeServices())), undefined);
});

test('admits the burst, then 429 rate_limited with Retry-After and RateLimit headers', async () => {
  const s = await build([{ name: 'per-minute', rate: 5, per: '1m', burst: 3, key: ['ip'] }]);
  const results = [];
  let last: RequestContext | undefined;
  for (let i = 0; i < 5; i++) {
    last = fakeContext();
    results.push(attempt(s, last));
  }
  assert.deepEqual(
    results.map((e) => e?.code),
    [undefined, undefined, undefined, 'rate_limited', 'rate_limited'],
  );
  const error = results[3] as GatewayError;
  assert.equal(error.status, 429);
  assert.equal(error.headers?.['retry-after'], '12'); // one token every 12 s
  assert.equal(last?.responseHeaders['ratelimit-policy'], '"per-minute";q=5;w=60');
  assert.equal(last?.responseHeaders['ratelimit'], '"per-minute";r=0;t=12');
  const first = fakeContext({ ip: '192.0.2.99' });
  attempt(s, first);
  assert.equal(first.responseHeaders['ratelimit'], '"per-minute";r=2;t=12');
});

test('several limits on one route: the tightest refuses, all are advertised', async () => {
  const s = await build([
    { name: 'per-second', rate: 20, per: '1s', burst: 10, key: ['consumer'] },
    { name: 'daily', rate: 12, per: '1d', key: ['consumer'] },
  ]);
  const id = { consumerId: 'c1' };
  let admitted = 0;
  for (let i = 0; i < 10; i++) if (attempt(s, fakeContext({ identity: id })) === undefined) admitted++;
  assert.equal(admitted, 10);
  const ctx = fakeContext({ identity: id });
  const error = attempt(s, ctx);
  assert.equal(error?.code, 'rate_limited');
  assert.equal(error?.reason, 'rate_limit:per-second');
  assert.equal(ctx.responseHeaders['ratelimit-policy'], '"per-second";q=20;w=1, "daily";q=12;w=86400');
  assert.equal(ctx.logFields.rateLimit, 'per-second');
});

test('keys: consumers are independent; an unauthenticated caller is keyed by IP', async () => {
  const s = await build([{ rate: 1, per: '1h' }]);
  assert.equal(attempt(s, fakeContext({ identity: { consumerId: 'a' } })), undefined);
  assert.equal(attempt(s, fakeContext({ identity: { consumerId: 'a' } }))?.code, 'rate_limited');
  assert.equal(attempt(s, fakeContext({ identity: { consumerId: 'b' } })), undefined);
  assert.equal(attempt(s, fakeContext({ ip: '198.51.100.1' })), undefined);
  assert.equal(attempt(s, fakeContext({ ip: '198.51.100.1' }))?.code, 'rate_limited');
});

test('attack: rotating IPv6 addresses inside one /64 does not dodge an ip limit', async () => {
  const s = await build([{ rate: 3, per: '1h', key: ['ip'] }]);
  const outcomes = [];
  for (let i = 1; i <= 6; i++)
    outcomes.push(attempt(s, fakeContext({ ip: `2001:db8:0:1::${i.toString(16)}` }))?.code);
  assert.deepEqual(outcomes, [
    undefined,
    undefined,
    undefined,
    'rate_limited',
    'rate_limited',
    'rate_limited',
  ]);
  assert.equal(attempt(s, fakeContext({ ip: '2001:db8:0:2::1' })), undefined);
});

test('attack: a crafted header value cannot collide with another combined key', async () => {
  const s = await build([{ rate: 1, per: '1h', key: ['header:x-tenant', 'header:x-user'] }]);
  assert.equal(attempt(s, fakeContext({ headers: { 'x-tenant': 'a', 'x-user': 'b|c' } })), undefined);
  assert.equal(attempt(s, fakeContext({ headers: { 'x-tenant': 'a|b', 'x-user': 'c' } })), undefined);
  assert.equal(
    attempt(s, fakeContext({ headers: { 'x-tenant': 'a', 'x-user': 'b|c' } }))?.code,
    'rate_limited',
  );
});

test('per-consumer overrides from the store attributes; invalid overrides are ignored', async () => {
  const s = await build([{ name: 'hourly', rate: 1, per: '1h' }]);
  const gold = { consumerId: 'gold', attributes: { rateLimits: { hourly: { rate: 3 } } } };
  let admitted = 0;
  for (let i = 0; i < 5; i++) if (attempt(s, fakeContext({ identity: gold })) === undefined) admitted++;
  assert.equal(admitted, 3);
  const bad = { consumerId: 'bad', attributes: { rateLimits: { hourly: { rate: -5, per: 'forever' } } } };
  assert.equal(attempt(s, fakeContext({ identity: bad })), undefined);
  assert.equal(attempt(s, fakeContext({ identity: bad }))?.code, 'rate_limited');
  const ctx = fakeContext({ identity: gold });
  attempt(s, ctx);
  assert.equal(ctx.responseHeaders['ratelimit-policy'], '"hourly";q=3;w=3600');
});

test('sliding window option and headers: false', async () => {
  const s = await build({
    headers: false,
    limits: [{ rate: 2, per: '1d', algorithm: 'sliding-window', key: ['route'] }],
  });
  const ctx = fakeContext();
  assert.equal(attempt(s, ctx), undefined);
  assert.equal(ctx.responseHeaders['ratelimit'], undefined);
  assert.equal(attempt(s, fakeContext({ ip: '1.1.1.1' })), undefined);
  assert.equal(attempt(s, fakeContext({ ip: '2.2.2.2' }))?.code, 'rate_limited');
});

test('config mistakes fail the load: duplicate names', async () => {
  await assert.rejects(
    Promise.resolve().then(() =>
      stage.build(
        [
          { name: 'a', rate: 1, per: '1s' },
          { name: 'a', rate: 2, per: '1s' },
        ] as never,
        fakeBuild(fakeServices()),
      ),
    ),
    /duplicate rate limit name "a"/,
  );
});

test('a shared limit must be declared identically on every route', async () => {
  const services = fakeServices();
  const b = fakeBuild(services);
  await stage.build([{ name: 's', rate: 5, per: '1m', shared: true }] as never, b);
  await stage.build([{ name: 's', rate: 5, per: '1m', shared: true }] as never, b);
  await assert.rejects(
    Promise.resolve().then(() => stage.build([{ name: 's', rate: 6, per: '1m', shared: true }] as never, b)),
    /shared rate limit "s" is declared differently/,
  );
});

test('a shared limit counts across routes; same-named limits on two routes do not', async () => {
  const services = fakeServices();
  const on = async (route: string, section: unknown): Promise<AccessStage> =>
    (await stage.build(section as never, fakeBuild(services, { route: { name: route } }))) as AccessStage;
  const sharedA = await on('a', [{ name: 's', rate: 2, per: '1h', key: ['ip'], shared: true }]);
  const sharedB = await on('b', [{ name: 's', rate: 2, per: '1h', key: ['ip'], shared: true }]);
  assert.equal(attempt(sharedA, fakeContext()), undefined);
  assert.equal(attempt(sharedB, fakeContext()), undefined);
  assert.equal(attempt(sharedA, fakeContext())?.code, 'rate_limited');
  const ownC = await on('c', [{ name: 'o', rate: 1, per: '1h', key: ['ip'] }]);
  const ownD = await on('d', [{ name: 'o', rate: 1, per: '1h', key: ['ip'] }]);
  assert.equal(attempt(ownC, fakeContext()), undefined);
  assert.equal(attempt(ownD, fakeContext()), undefined);
  assert.equal(attempt(ownC, fakeContext())?.code, 'rate_limited');
});

test('a rebuilt stage (config reload) keeps counting where the previous one was', async () => {
  const services = fakeServices();
  const section = [{ name: 'hourly', rate: 2, per: '1h', key: ['ip'] }];
  const first = (await stage.build(section as never, fakeBuild(services))) as AccessStage;
  assert.equal(attempt(first, fakeContext()), undefined);
  assert.equal(attempt(first, fakeContext()), undefined);
  const second = (await stage.build(section as never, fakeBuild(services))) as AccessStage;
  assert.equal(attempt(second, fakeContext())?.code, 'rate_limited');
});

test('RateLimit follows every answer: the remembered item is never stale', async () => {
  const s = await build([
    { name: 'a', rate: 3, per: '1h', key: ['ip'] },
    { name: 'b', rate: 2, per: '1h', key: ['ip'] },
  ]);
  const seen: string[] = [];
  for (const ip of ['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.1']) {
    const ctx = fakeContext({ ip });
    attempt(s, ctx);
    seen.push(ctx.responseHeaders['ratelimit'] ?? '');
  }
  assert.deepEqual(seen, [
    '"a";r=2;t=1200, "b";r=1;t=1800',
    '"a";r=1;t=2400, "b";r=0;t=3600',
    '"a";r=2;t=1200, "b";r=1;t=1800',
    // refused by b: a counted it (limits are independent), b shows the wait
    '"a";r=0;t=3600, "b";r=0;t=1800',
  ]);
});
