import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import stage from '../../../src/stages/traffic/quota.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import { CREDENTIAL_SERVICES_KEY } from '../../../src/authn/credential-services.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import type { AccessStage } from '../../../src/pipeline/stage.js';
import type { Services } from '../../../src/pipeline/services.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import { quotaRegistry, quotaUsage, resetQuotas } from '../../../src/traffic/quota-registry.js';
import { resolveQuotaSubject } from '../../../src/traffic/quota-admin.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { fakeBuild, fakeContext, fakeServices } from '../../traffic/fakes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-quota-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A "gateway process": services with the SQLite credential store at `file`. */
function gatewayServices(file: string): Services & { close(): Promise<void> } {
  const services = fakeServices();
  const store = new SqliteStore(file);
  services.shared.set(
    CREDENTIAL_SERVICES_KEY,
    Promise.resolve({ store, hash: () => Buffer.alloc(0), beforeClose: () => undefined }),
  );
  services.onClose(() => store.close());
  return services;
}

async function build(
  services: Services,
  section: unknown,
  config: Record<string, unknown> = {},
): Promise<AccessStage> {
  const built = await stage.build(section as never, fakeBuild(services, { config }));
  assert.ok(built);
  return built as AccessStage;
}

async function outcome(
  s: AccessStage,
  ctx: RequestContext = fakeContext({ identity: { consumerId: 'c1' } }),
): Promise<string> {
  try {
    await s.run(ctx);
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error.code;
  }
}

test('absent section: the stage is absent; unknown time zone fails the load', async () => {
  const services = fakeServices();
  assert.equal(await stage.build(undefined, fakeBuild(services)), undefined);
  await assert.rejects(
    Promise.resolve().then(() =>
      stage.build({ limit: 1, period: 'day', timeZone: 'Nowhere/Land' }, fakeBuild(services)),
    ),
    /unknown time zone/,
  );
});

test('daily quota: admits the limit, then 429 quota_exceeded until the period ends', async () => {
  const services = gatewayServices(join(dir, 'a.db'));
  const s = await build(services, { limit: 3, period: 'day', timeZone: 'Europe/Berlin' });
  const results = [];
  let ctx: RequestContext | undefined;
  for (let i = 0; i < 4; i++) {
    ctx = fakeContext({ identity: { consumerId: 'c1' } });
    results.push(await outcome(s, ctx));
  }
  assert.deepEqual(results, ['ok', 'ok', 'ok', 'quota_exceeded']);
  const error = await Promise.resolve()
    .then(() => s.run(fakeContext({ identity: { consumerId: 'c1' } })))
    .catch((e: unknown) => e);
  assert.ok(error instanceof GatewayError);
  assert.equal(error.status, 429);
  const retry = Number(error.headers?.['retry-after']);
  assert.ok(retry >= 1 && retry <= 25 * 3600);
  assert.match(ctx?.responseHeaders['ratelimit'] ?? '', /^"daily";r=0;t=\d+$/);
  assert.match(ctx?.responseHeaders['ratelimit-policy'] ?? '', /^"daily";q=3;w=\d+$/);
  // another consumer has its own count
  assert.equal(await outcome(s, fakeContext({ identity: { consumerId: 'c2' } })), 'ok');
  await services.close();
});

test('quota persists across a restart (credential store)', async () => {
  const file = join(dir, 'restart.db');
  const section = { name: 'monthly', limit: 3, period: 'month' };
  const first = gatewayServices(file);
  const s1 = await build(first, section);
  assert.deepEqual([await outcome(s1), await outcome(s1)], ['ok', 'ok']);
  await first.close();

  const second = gatewayServices(file);
  const s2 = await build(second, section);
  assert.deepEqual([await outcome(s2), await outcome(s2)], ['ok', 'quota_exceeded']);
  await second.close();
});

test('plans and per-consumer overrides; per: plan shares one count', async () => {
  const services = gatewayServices(join(dir, 'plans.db'));
  const s = await build(services, { name: 'p', limit: 1, period: 'day', plans: { gold: 3 } });
  const gold = { consumerId: 'g', attributes: { plan: 'gold' } };
  const special = { consumerId: 'v', attributes: { plan: 'gold', quotas: { p: 5 } } };
  let goldOk = 0;
  let specialOk = 0;
  for (let i = 0; i < 6; i++) {
    if ((await outcome(s, fakeContext({ identity: gold }))) === 'ok') goldOk++;
    if ((await outcome(s, fakeContext({ identity: special }))) === 'ok') specialOk++;
  }
  assert.deepEqual([goldOk, specialOk], [3, 5]);

  const shared = await build(services, { name: 'team', limit: 2, period: 'day', per: 'plan' });
  const a = { consumerId: 'a', attributes: { plan: 'team' } };
  const b = { consumerId: 'b', attributes: { plan: 'team' } };
  assert.deepEqual(
    [
      await outcome(shared, fakeContext({ identity: a })),
      await outcome(shared, fakeContext({ identity: b })),
      await outcome(shared, fakeContext({ identity: a })),
    ],
    ['ok', 'ok', 'quota_exceeded'],
  );
  await services.close();
});

test('usage is visible and can be reset (what the admin API and CLI call)', async () => {
  const services = gatewayServices(join(dir, 'admin.db'));
  const s = await build(services, { name: 'daily', limit: 2, period: 'day' });
  await outcome(s);
  await outcome(s);
  assert.equal(await outcome(s), 'quota_exceeded');
  const registry = quotaRegistry(services);
  const usage = await quotaUsage(registry.values(), { consumerId: 'c1' });
  assert.equal(usage.length, 1);
  assert.equal(usage[0]?.used, 2);
  assert.equal(usage[0]?.limit, 2);
  assert.deepEqual(await resetQuotas(registry.values(), { consumerId: 'c1' }), ['daily']);
  assert.equal((await quotaUsage(registry.values(), { consumerId: 'c1' }))[0]?.used, 0);
  assert.equal(await outcome(s), 'ok');
  await services.close();
});

describe('quota in Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('persists across a restart of the gateway; fail-closed when Redis is down', async () => {
    const counters = { type: 'redis', url: redis.url, keyPrefix: 'qt:', commandTimeoutMs: 5000 };
    const section = { limit: 2, period: 'day', onStoreError: 'fail-closed' };
    const ready = async (services: Services): Promise<void> => {
      const service = [...services.shared.values()].find(
        (v) => (v as { store?: { kind?: string } }).store?.kind === 'redis',
      ) as { store: { client: { status: string } } } | undefined;
      while (service?.store.client.status !== 'ready') await new Promise((r) => setTimeout(r, 10));
    };
    const first = fakeServices();
    const s1 = await build(first, section, { counters });
    await ready(first);
    assert.equal(await outcome(s1), 'ok');
    await first.close();
    const second = fakeServices();
    const s2 = await build(second, section, { counters });
    await ready(second);
    assert.deepEqual([await outcome(s2), await outcome(s2)], ['ok', 'quota_exceeded']);
    await redis.kill();
    assert.equal(await outcome(s2, fakeContext({ identity: { consumerId: 'other' } })), 'store_unavailable');
    await second.close();
  });
});

test('the admin API and CLI find a consumer by name or id, with its plan and overrides', async () => {
  const file = join(dir, 'lookup.db');
  const services = gatewayServices(file);
  const s = await build(services, { name: 'lookup', limit: 1, period: 'day', plans: { gold: 3 } });
  const store = new SqliteStore(file);
  try {
    const acme = await store.createConsumer({ name: 'acme', attributes: { plan: 'gold' } });
    await outcome(s, fakeContext({ identity: { consumerId: acme.id, attributes: acme.attributes } }));
    for (const ref of ['acme', acme.id]) {
      const who = await resolveQuotaSubject(() => store, ref, undefined);
      assert.equal(who?.consumerId, acme.id);
      const usage = await quotaUsage(quotaRegistry(services).values(), who ?? {});
      assert.deepEqual(
        usage.filter((u) => u.quota === 'lookup').map((u) => [u.used, u.limit]),
        [[1, 3]],
      );
    }
    assert.equal(await resolveQuotaSubject(() => store, 'nobody', undefined), undefined);
  } finally {
    await store.close();
    await services.close();
  }
});
