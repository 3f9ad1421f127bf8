import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { jwtFactory } from '../../src/authn/jwt-authenticator.js';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { bearer, testBuild, testServices } from '../authn/jwt-fixtures.js';
import { basic, send, startOAuth } from './fixtures.js';

/** A `local: true` verifier on its own services (its own store connection): another node. */
async function nodeVerifier(config: Record<string, unknown>, dir: string, services = testServices()) {
  const build = testBuild(
    { ...config, authn: { jwt: { issuers: { gw: { local: true, algorithms: ['ES256'] } } } } },
    { authentication: { anyOf: ['jwt:gw'] } },
    services,
  );
  const auth: Authenticator = await jwtFactory.create('gw', { ...build, configDir: dir });
  return { auth, services };
}

async function accepted(auth: Authenticator, token: string): Promise<boolean> {
  try {
    await auth.authenticate(bearer(token));
    return true;
  } catch (error) {
    if (error instanceof AuthenticationFailure && error.reason === 'jwt_revoked') return false;
    throw error;
  }
}

/**
 * Node A (the authorization server, with client `id` and its consumer) issues a token; node B is
 * another gateway's verifier on the same store. Both are closed by the returned cleanups.
 */
async function twoNodes(id: string, cleanups: (() => Promise<void>)[]) {
  const a = await startOAuth();
  cleanups.push(() => a.close());
  await a.client({ id, secret: 'correct horse battery staple' });
  const issued = await send(a.stage, {
    path: '/oauth/token',
    headers: basic(id, 'correct horse battery staple'),
    form: { grant_type: 'client_credentials' },
  });
  const token = issued.json.access_token as string;
  const b = await nodeVerifier(a.config as Record<string, unknown>, a.dir);
  cleanups.push(() => b.services.close());
  return { a, b, token };
}

describe('token revocation across gateway nodes sharing a store', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  test('a token revoked on node A is refused by node B, even from B\u2019s verified-token cache', async () => {
    const { a, b, token } = await twoNodes('svc', cleanups);
    assert.equal(await accepted(b.auth, token), true, 'node B accepts (and caches) the token');
    assert.equal(await accepted(b.auth, token), true);

    const revoked = await send(a.stage, {
      path: '/oauth/revoke',
      headers: basic('svc', 'correct horse battery staple'),
      form: { token },
    });
    assert.equal(revoked.status, 200);
    const started = Date.now();
    let refusedAfter: number | undefined;
    while (Date.now() - started < 10_000) {
      if (!(await accepted(b.auth, token))) {
        refusedAfter = Date.now() - started;
        break;
      }
      await sleep(50);
    }
    assert.ok(refusedAfter !== undefined, 'node B refuses the revoked token');
    console.log(`node B refused the revoked token after ${refusedAfter} ms`);
  });
});

describe("the built-in issuer's tokens follow their consumer and client", () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  /** The failure reason node B gives the token, or 'accepted'. */
  async function outcome(auth: Authenticator, token: string): Promise<string> {
    try {
      await auth.authenticate(bearer(token));
      return 'accepted';
    } catch (error) {
      if (error instanceof AuthenticationFailure) return error.reason;
      throw error;
    }
  }

  async function waitFor(auth: Authenticator, token: string, wanted: string): Promise<string> {
    const started = Date.now();
    let last = '';
    while (Date.now() - started < 10_000) {
      last = await outcome(auth, token);
      if (last === wanted) return last;
      await sleep(50);
    }
    return last;
  }

  test('a consumer disabled, then deleted, on node A loses its tokens on node B (cached ones too)', async () => {
    const { a, b, token } = await twoNodes('svc', cleanups);
    assert.equal(await outcome(b.auth, token), 'accepted', 'node B accepts (and caches) the token');
    assert.equal(await outcome(b.auth, token), 'accepted');

    const consumer = await a.runtime.store.getConsumerByName('consumer-of-svc');
    assert.ok(consumer !== null);
    await a.runtime.store.updateConsumer(consumer.id, { disabled: true });
    assert.equal(await waitFor(b.auth, token, 'jwt_consumer_disabled'), 'jwt_consumer_disabled');

    await a.runtime.store.updateConsumer(consumer.id, { disabled: false });
    assert.equal(await waitFor(b.auth, token, 'accepted'), 'accepted', 'enabled again: accepted');

    assert.equal(await a.runtime.store.deleteConsumer(consumer.id), true);
    assert.equal(await waitFor(b.auth, token, 'jwt_consumer_missing'), 'jwt_consumer_missing');
  });

  test('a client revoked, then deleted, on node A loses its tokens on node B', async () => {
    const { a, b, token } = await twoNodes('svc2', cleanups);
    assert.equal(await outcome(b.auth, token), 'accepted');
    assert.equal(await outcome(b.auth, token), 'accepted');

    await a.runtime.store.updateClient('svc2', { revokedAt: Date.now() });
    assert.equal(await waitFor(b.auth, token, 'jwt_client_revoked'), 'jwt_client_revoked');
    assert.equal(await a.runtime.store.deleteClient('svc2'), true);
    assert.equal(await waitFor(b.auth, token, 'jwt_client_missing'), 'jwt_client_missing');
  });
});
