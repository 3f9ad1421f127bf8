import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/config/config-error.js';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import { renderProblem } from '../../../src/errors/render.js';
import type { AccessStage } from '../../../src/pipeline/stage.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import { SignJWT } from 'jose';
import { generateApiKey } from '../../../src/authn/api-key-format.js';
import { fakeContext } from '../../authn/request-context.js';
import { stageHarness, type StageHarness } from './fixture.js';

async function outcome(stage: AccessStage, ctx: RequestContext): Promise<GatewayError | undefined> {
  try {
    await stage.run(ctx);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    return error;
  }
}

describe('authn.authenticate stage', () => {
  let h: StageHarness;
  before(async () => {
    h = await stageHarness();
  });
  after(async () => {
    await h.close();
  });

  test('deny by default: a route without authentication and not public is a configuration error', async () => {
    await assert.rejects(h.build({}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /public: true/);
      assert.equal(error.issues[0]?.pointer, '/routes/0/authentication');
      return true;
    });
    assert.equal(await h.build({ public: true }), undefined);
    await assert.rejects(h.build({ public: true, authentication: { anyOf: ['api_key'] } }), ConfigError);
    await assert.rejects(
      h.build({ authentication: { anyOf: ['basic'] } }),
      /unknown authentication method "basic"/,
    );
    await assert.rejects(h.build({ authentication: { anyOf: ['api_key:x'] } }), /no instance/);
    await assert.rejects(h.build({ authentication: { anyOf: ['api_key'], allOf: ['api_key'] } }), /not both/);
    await assert.rejects(h.build({ authentication: { apiKeyInQuery: true } }), /`anyOf`.*`allOf`/);
    for (const name of [
      'Host',
      'authorization',
      'content-length',
      'x-forwarded-for',
      'proxy-authorization',
    ]) {
      await assert.rejects(
        h.build({ authentication: { anyOf: ['api_key'], forwardHeaders: { [name]: 'subject' } } }),
        /cannot carry identity/,
      );
    }
  });

  test('a valid key authenticates; credential and spoofed identity headers are not forwarded', async () => {
    const consumer = await h.admin.createConsumer({
      name: 'shop',
      roles: ['reader', 'writer'],
      tenant: 'acme',
    });
    const { key, record } = await h.admin.createKey(consumer.id, { scopes: ['orders:read'] });
    const stage = await h.build({
      authentication: {
        anyOf: ['api_key'],
        forwardHeaders: {
          'x-consumer-id': 'consumerId',
          'x-consumer-roles': 'roles',
          'x-consumer-scopes': 'scopes',
          'x-consumer-tenant': 'tenant',
          'x-consumer-issuer': 'issuer',
        },
      },
    });
    assert.ok(stage);
    const ctx = fakeContext({
      headers: {
        'x-api-key': key,
        'x-consumer-id': 'admin',
        'x-consumer-issuer': 'https://evil',
        'x-consumer-roles': 'root',
      },
    });
    assert.equal(await outcome(stage, ctx), undefined);
    assert.equal(ctx.identity?.consumerId, consumer.id);
    assert.equal(ctx.identity?.credentialId, record.lookupId);
    assert.deepEqual(ctx.upstreamHeaders, {
      'x-consumer-id': consumer.id,
      'x-consumer-roles': 'reader,writer',
      'x-consumer-scopes': 'orders:read',
      'x-consumer-tenant': 'acme',
    });
    assert.ok(ctx.dropHeaders.has('x-api-key'), 'consumed credential is dropped');
    assert.ok(
      ctx.dropHeaders.has('x-consumer-issuer'),
      'spoofed header without an identity value is dropped',
    );
    assert.equal(ctx.logFields.consumerId, consumer.id);
    assert.equal(ctx.logFields.credentialId, record.lookupId);
    assert.ok(!JSON.stringify(ctx.logFields).includes(key));

    // Again, served from the caches (verified key, identity header values): the same outcome.
    const again = fakeContext({
      headers: { 'x-api-key': key, 'x-consumer-issuer': 'https://evil', x_consumer_id: 'admin' },
    });
    assert.equal(await outcome(stage, again), undefined);
    assert.equal(again.identity, ctx.identity, 'the cached, frozen identity');
    assert.deepEqual(again.upstreamHeaders, ctx.upstreamHeaders);
    assert.ok(again.dropHeaders.has('x-api-key'));
    assert.ok(again.dropHeaders.has('x-consumer-issuer'));
    assert.ok(again.dropHeaders.has('x_consumer_id'), 'underscore spelling of an identity header');

    const forwarding = await h.build({ authentication: { anyOf: ['api_key'], forwardCredential: true } });
    const ctx2 = fakeContext({ headers: { 'x-api-key': key } });
    assert.equal(await outcome(forwarding!, ctx2), undefined);
    assert.ok(!ctx2.dropHeaders.has('x-api-key'), 'forwardCredential keeps the header');
  });

  test('every failure reason gets the same 401 body; the reason only reaches logs, audit and metrics', async () => {
    const consumer = await h.admin.createConsumer({ name: 'reasons' });
    const stage = (await h.build(
      { authentication: { anyOf: ['api_key'] } },
      { bruteForce: { enabled: false } },
    ))!;
    const valid = await h.admin.createKey(consumer.id);
    const revoked = await h.admin.createKey(consumer.id);
    await h.admin.revokeKey(revoked.record.lookupId);
    const expiring = await h.admin.createKey(consumer.id, { expiresAt: Date.now() + 50 });
    const rotated = await h.admin.createKey(consumer.id);
    await h.admin.rotateKey(rotated.record.lookupId, 0);
    const fenced = await h.admin.createKey(consumer.id, { allowedCidrs: ['10.0.0.0/8'] });
    const disabledOwner = await h.admin.createConsumer({ name: 'gone' });
    const disabledKey = await h.admin.createKey(disabledOwner.id);
    await h.admin.setConsumerDisabled(disabledOwner.id, true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const typo = valid.key.slice(0, -1) + (valid.key.endsWith('a') ? 'b' : 'a');
    const wrongSecret = generateApiKey('pcs', valid.record.lookupId).key;

    const cases: [string, RequestContext][] = [
      ['credential_missing', fakeContext()],
      ['api_key_malformed', fakeContext({ headers: { 'x-api-key': 'not-a-key' } })],
      ['api_key_bad_checksum', fakeContext({ headers: { 'x-api-key': typo } })],
      ['api_key_unknown', fakeContext({ headers: { 'x-api-key': generateApiKey('pcs').key } })],
      ['api_key_wrong_secret', fakeContext({ headers: { 'x-api-key': wrongSecret } })],
      ['api_key_revoked', fakeContext({ headers: { 'x-api-key': revoked.key } })],
      ['api_key_expired', fakeContext({ headers: { 'x-api-key': expiring.key } })],
      ['api_key_rotated_out', fakeContext({ headers: { 'x-api-key': rotated.key } })],
      [
        'api_key_source_refused',
        fakeContext({ headers: { 'x-api-key': fenced.key }, clientIp: '192.0.2.1' }),
      ],
      ['api_key_consumer_disabled', fakeContext({ headers: { 'x-api-key': disabledKey.key } })],
      ['api_key_in_query_not_allowed', fakeContext({ query: `api_key=${valid.key}` })],
    ];
    const bodies = new Set<string>();
    for (const [reason, ctx] of cases) {
      const error = await outcome(stage, ctx);
      assert.ok(error, reason);
      assert.equal(error.code, 'unauthenticated', reason);
      assert.equal(error.reason, reason);
      assert.equal(ctx.logFields.authnReason, reason);
      const rendered = renderProblem(error);
      assert.equal(rendered.status, 401);
      bodies.add(rendered.body);
      const challenge = rendered.headers['www-authenticate'] ?? '';
      assert.match(challenge, /^ApiKey realm="portcullis"/);
      if (reason === 'credential_missing') assert.doesNotMatch(challenge, /error=/);
      else assert.match(challenge, /error="invalid_(token|request)"/, reason);
    }
    assert.equal(bodies.size, 1, 'one body for every reason');
    assert.doesNotMatch([...bodies][0] ?? '', /api_key|revoked|expired|detail/);

    const audits = h.logLines.filter((line) => line.audit === true && line.event === 'authn_failure');
    assert.ok(
      audits.some(
        (line) => line.reason === 'api_key_revoked' && line.credentialId === revoked.record.lookupId,
      ),
    );
    const logged = JSON.stringify(h.logLines);
    for (const secret of [valid.key, revoked.key, wrongSecret, typo])
      assert.ok(!logged.includes(secret), 'no key in logs');
    const metric = await h.metrics.registry.getSingleMetricAsString('portcullis_authn_failures_total');
    assert.match(metric, /reason="api_key_revoked"/);

    // the valid key still works
    assert.equal(await outcome(stage, fakeContext({ headers: { 'x-api-key': valid.key } })), undefined);
  });

  test('successes are counted by route and method, and every scrape shows the count so far', async () => {
    const consumer = await h.admin.createConsumer({ name: 'counted' });
    const { key } = await h.admin.createKey(consumer.id);
    const stage = (await h.build({ authentication: { anyOf: ['api_key'] } }))!;
    const count = async (): Promise<number> => {
      const text = await h.metrics.registry.getSingleMetricAsString('portcullis_authn_success_total');
      const line = text.split('\n').find((l) => l.startsWith('portcullis_authn_success_total{'));
      assert.ok(line === undefined || /route="orders",method="api_key"/.test(line), line);
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const before = await count();
    for (let i = 0; i < 3; i++)
      assert.equal(await outcome(stage, fakeContext({ headers: { 'x-api-key': key } })), undefined);
    assert.equal(await count(), before + 3);
    assert.equal(await count(), before + 3, 'a scrape does not count twice');
    // A second stage of the same route (a reload) adds to the same series.
    const reloaded = (await h.build({ authentication: { anyOf: ['api_key'] } }))!;
    assert.equal(await outcome(reloaded, fakeContext({ headers: { 'x-api-key': key } })), undefined);
    assert.equal(await outcome(stage, fakeContext({ headers: { 'x-api-key': key } })), undefined);
    assert.equal(await count(), before + 5);
    const refused = await outcome(stage, fakeContext({ headers: { 'x-api-key': `${key.slice(0, -3)}abc` } }));
    assert.equal(refused?.status, 401);
    assert.equal(await count(), before + 5, 'failures are not successes');
  });

  test('rotation overlap: old and new keys both work until notAfter, then only the new one', async () => {
    const consumer = await h.admin.createConsumer({ name: 'rotating' });
    const old = await h.admin.createKey(consumer.id, { scopes: ['a'] });
    const stage = (await h.build(
      { authentication: { anyOf: ['api_key'] } },
      { bruteForce: { enabled: false } },
    ))!;
    const ctxOld = () => fakeContext({ headers: { 'x-api-key': old.key } });
    assert.equal(await outcome(stage, ctxOld()), undefined);
    const rotated = await h.admin.rotateKey(old.record.lookupId, 300);
    assert.deepEqual(rotated.record.scopes, ['a']);
    // within the overlap window (the cache entry was invalidated by the change feed or is re-read)
    assert.equal(await outcome(stage, ctxOld()), undefined);
    assert.equal(await outcome(stage, fakeContext({ headers: { 'x-api-key': rotated.key } })), undefined);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const error = await outcome(stage, ctxOld());
    assert.equal(error?.reason, 'api_key_rotated_out');
    assert.equal(await outcome(stage, fakeContext({ headers: { 'x-api-key': rotated.key } })), undefined);
  });

  test('query-string keys: only when enabled, then stripped before forwarding and logging', async () => {
    const consumer = await h.admin.createConsumer({ name: 'query' });
    const { key } = await h.admin.createKey(consumer.id);
    const stage = (await h.build({ authentication: { anyOf: ['api_key'], apiKeyInQuery: true } }))!;
    const ctx = fakeContext({ query: `page=2&api_key=${key}` });
    assert.equal(await outcome(stage, ctx), undefined);
    assert.equal(ctx.query, 'page=2');
    assert.equal(ctx.identity?.consumerId, consumer.id);
  });

  test('brute force: failures from one address slow down, then block it (429 + Retry-After), even for a valid key', async () => {
    const consumer = await h.admin.createConsumer({ name: 'brute' });
    const { key } = await h.admin.createKey(consumer.id);
    const stage = (await h.build(
      { authentication: { anyOf: ['api_key'] } },
      { bruteForce: { maxFailures: 3, windowSec: 60, blockSec: 120, delayMs: 1 } },
    ))!;
    const attacker = '198.51.100.7';
    for (let i = 0; i < 3; i++) {
      const error = await outcome(
        stage,
        fakeContext({ headers: { 'x-api-key': generateApiKey('pcs').key }, clientIp: attacker }),
      );
      assert.equal(error?.code, 'unauthenticated');
    }
    const blocked = await outcome(stage, fakeContext({ headers: { 'x-api-key': key }, clientIp: attacker }));
    assert.equal(blocked?.code, 'auth_blocked');
    assert.equal(blocked?.status, 429);
    assert.equal(blocked?.headers?.['retry-after'], '120');
    assert.equal(
      await outcome(stage, fakeContext({ headers: { 'x-api-key': key }, clientIp: '198.51.100.8' })),
      undefined,
    );
    const metric = await h.metrics.registry.getSingleMetricAsString('portcullis_authn_blocked_total');
    assert.match(metric, /subject="ip"/);
  });

  test('brute force per key id: guessing one key from many addresses blocks that key id', async () => {
    const consumer = await h.admin.createConsumer({ name: 'target' });
    const target = await h.admin.createKey(consumer.id);
    const stage = (await h.build(
      { authentication: { anyOf: ['api_key'] } },
      { bruteForce: { maxFailures: 3, windowSec: 60, blockSec: 60, delayMs: 0 } },
    ))!;
    for (let i = 0; i < 3; i++) {
      const guess = generateApiKey('pcs', target.record.lookupId).key;
      await outcome(stage, fakeContext({ headers: { 'x-api-key': guess }, clientIp: `203.0.113.${i + 1}` }));
    }
    const error = await outcome(
      stage,
      fakeContext({ headers: { 'x-api-key': target.key }, clientIp: '203.0.113.200' }),
    );
    assert.equal(error?.code, 'auth_blocked');
  });

  test('anyOf API key or JWT: either works, challenges name both, a bad token gets invalid_token', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const authn = {
      bruteForce: { enabled: false },
      jwt: { issuers: { corp: { issuer: 'https://corp.test', algorithms: ['HS256'], secret } } },
    };
    const stage = (await h.build({ authentication: { anyOf: ['api_key', 'jwt:corp'] } }, authn))!;
    const token = await new SignJWT({ roles: ['reader'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://corp.test')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    const viaJwt = fakeContext({ headers: { authorization: `Bearer ${token}` } });
    assert.equal(await outcome(stage, viaJwt), undefined);
    assert.equal(viaJwt.identity?.subject, 'alice');
    assert.ok(viaJwt.dropHeaders.has('authorization'));

    const consumer = await h.admin.createConsumer({ name: 'either' });
    const { key } = await h.admin.createKey(consumer.id);
    const viaKey = fakeContext({ headers: { 'x-api-key': key } });
    assert.equal(await outcome(stage, viaKey), undefined);
    assert.equal(viaKey.identity?.method, 'api_key');

    const missing = await outcome(stage, fakeContext());
    assert.equal(
      missing?.headers?.['www-authenticate'],
      'ApiKey realm="portcullis", Bearer realm="portcullis"',
    );
    const forged = await outcome(
      stage,
      fakeContext({ headers: { authorization: `Bearer ${token.slice(0, -2)}xx` } }),
    );
    assert.equal(forged?.code, 'unauthenticated');
    assert.match(
      forged?.headers?.['www-authenticate'] ?? '',
      /Bearer realm="portcullis"[^,]*, error="invalid_token"/,
    );
    assert.equal(renderProblem(forged).body, renderProblem(missing).body);
  });
});
