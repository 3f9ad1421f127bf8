import { describe, test, after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { jwtFactory } from '../../src/authn/jwt-authenticator.js';
import { JwksCache } from '../../src/authn/jwks-cache.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { Identity } from '../../src/pipeline/identity.js';
import { bearer, startJwksServer, testBuild, testServices, type JwksServer } from './jwt-fixtures.js';

const ISS = 'https://idp.test';

async function keyPair(kid: string) {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  const privateJwk = await exportJWK(pair.privateKey);
  return { ...pair, jwk, privateJwk, kid };
}

const k1 = await keyPair('k1');
const k2 = await keyPair('k2');
const k3 = await keyPair('k3');

function sign(key: { privateKey: CryptoKey; kid: string }, sub = 'alice') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, iss: ISS, iat: now, exp: now + 300 })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .sign(key.privateKey);
}

const servers: JwksServer[] = [];
const services = testServices();
after(async () => {
  await services.close();
  for (const server of servers) await server.close();
});

async function setup(
  jwks: { cooldownSec?: number; ttlSec?: number; maxKeys?: number; maxBytes?: number } = {},
) {
  const server = await startJwksServer({ keys: [k1.jwk] });
  servers.push(server);
  const build = testBuild(
    {
      authn: {
        jwt: {
          issuers: {
            idp: {
              issuer: ISS,
              algorithms: ['ES256'],
              jwksUri: server.url,
              jwks: { cooldownSec: 60, ...jwks },
            },
          },
        },
      },
    },
    { authentication: { anyOf: ['jwt:idp'] } },
    services,
  );
  const auth: Authenticator = await jwtFactory.create('idp', build);
  return { server, auth };
}

async function subject(auth: Authenticator, token: string): Promise<string> {
  return ((await auth.authenticate(bearer(token))) as Identity).subject;
}

async function refusedWith(auth: Authenticator, token: string, reason: string): Promise<void> {
  await assert.rejects(
    async () => auth.authenticate(bearer(token)),
    (error: unknown) => {
      assert.ok(error instanceof AuthenticationFailure);
      assert.equal(error.reason, reason);
      return true;
    },
  );
}

describe('JWKS cache', () => {
  test('fetches once and serves verifications from the cached set', async () => {
    const { server, auth } = await setup();
    assert.equal(await subject(auth, await sign(k1)), 'alice');
    assert.equal(await subject(auth, await sign(k1, 'bob')), 'bob');
    assert.equal(server.hits, 1);
  });

  test('unknown kid: one rate-limited refetch, then refused', async () => {
    const { server, auth } = await setup();
    await subject(auth, await sign(k1));
    assert.equal(server.hits, 1);
    await refusedWith(auth, await sign(k3), 'jwt_unknown_key');
    assert.equal(server.hits, 2, 'one refetch for the unknown kid');
    await refusedWith(auth, await sign(k3, 'again'), 'jwt_unknown_key');
    await refusedWith(auth, await sign(k3, 'and again'), 'jwt_unknown_key');
    assert.equal(server.hits, 2, 'no further fetches during the cooldown');
  });

  test('rotation while serving: new key picked up, removed key refused even when cached', async () => {
    const { server, auth } = await setup({ cooldownSec: 0 });
    const old = await sign(k1);
    assert.equal(await subject(auth, old), 'alice');
    server.body = JSON.stringify({ keys: [k1.jwk, k2.jwk] });
    assert.equal(await subject(auth, await sign(k2, 'new')), 'new');
    assert.equal(await subject(auth, old), 'alice', 'both keys valid during the overlap');
    server.body = JSON.stringify({ keys: [k2.jwk] });
    await refusedWith(auth, await sign(k3), 'jwt_unknown_key'); // triggers the refetch that drops k1
    await refusedWith(auth, old, 'jwt_unknown_key');
    assert.equal(await subject(auth, await sign(k2, 'still')), 'still');
  });

  test('server down: stale keys keep serving', async () => {
    const { server, auth } = await setup({ cooldownSec: 0 });
    const token = await sign(k1);
    await subject(auth, token);
    server.status = 503;
    await refusedWith(auth, await sign(k3), 'jwt_unknown_key'); // refetch fails, old set kept
    assert.equal(await subject(auth, await sign(k1, 'fresh')), 'fresh');
    await server.close();
    assert.equal(await subject(auth, await sign(k1, 'offline')), 'offline');
  });

  test('never fetched and server down: 503 authn_unavailable, not a pass', async () => {
    const server = await startJwksServer({ keys: [k1.jwk] });
    await server.close();
    const build = testBuild(
      {
        authn: {
          jwt: {
            issuers: {
              down: { issuer: ISS, algorithms: ['ES256'], jwksUri: server.url, jwks: { timeoutMs: 500 } },
            },
          },
        },
      },
      { authentication: { anyOf: ['jwt:down'] } },
      services,
    );
    const auth = await jwtFactory.create('down', build);
    await assert.rejects(
      async () => auth.authenticate(bearer(await sign(k1))),
      (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'authn_unavailable');
        assert.equal(error.status, 503);
        return true;
      },
    );
  });

  test('bounded key count and response size; private and symmetric keys ignored', async () => {
    const server = await startJwksServer({ keys: [k1.jwk, k2.jwk, k3.jwk] });
    servers.push(server);
    const base = { uri: server.url, ttlMs: 60_000, cooldownMs: 0, maxStaleMs: 60_000, timeoutMs: 1000 };
    const tooMany = new JwksCache({ ...base, maxKeys: 2, maxBytes: 100_000 });
    await assert.rejects(tooMany.refresh(), /more than 2/);
    const tooBig = new JwksCache({ ...base, maxKeys: 10, maxBytes: 300 });
    await assert.rejects(tooBig.refresh(), /too large/);
    server.body = JSON.stringify({
      keys: [
        { ...k1.privateJwk, kid: 'priv' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
        k2.jwk,
        { ...k3.jwk, use: 'enc' },
      ],
    });
    const filtered = new JwksCache({ ...base, maxKeys: 10, maxBytes: 100_000 });
    await filtered.refresh();
    assert.deepEqual(
      filtered.keys().map((key) => key.kid),
      ['k2'],
    );
    server.body = 'not json';
    await assert.rejects(filtered.refresh(), /not JSON/);
    assert.deepEqual(
      filtered.keys().map((key) => key.kid),
      ['k2'],
      'a failed refresh keeps the last good set',
    );
    for (const cache of [tooMany, tooBig, filtered]) cache.close();
  });

  test('the cache is shared across reloads (services.shared)', async () => {
    const { server } = await setup();
    const build = testBuild(
      { authn: { jwt: { issuers: { idp: { issuer: ISS, algorithms: ['ES256'], jwksUri: server.url } } } } },
      { authentication: { anyOf: ['jwt:idp'] } },
      services,
    );
    const first = await jwtFactory.create('idp', build);
    await subject(first, await sign(k1));
    const hits = server.hits;
    const reloaded = await jwtFactory.create('idp', testBuild(build.config, build.route, services));
    await subject(reloaded, await sign(k1, 'after-reload'));
    assert.equal(server.hits, hits, 'no fetch after the reload');
  });

  test('background refresh picks up a rotation without any request', async () => {
    const server = await startJwksServer({ keys: [k1.jwk] });
    servers.push(server);
    const outcomes: string[] = [];
    const cache = new JwksCache({
      uri: server.url,
      ttlMs: 100,
      cooldownMs: 0,
      maxStaleMs: 60_000,
      timeoutMs: 1000,
      maxKeys: 10,
      maxBytes: 100_000,
      onFetch: (outcome) => outcomes.push(outcome),
    });
    await cache.refresh();
    cache.start();
    server.body = JSON.stringify({ keys: [k2.jwk] });
    const deadline = Date.now() + 10_000;
    while (!cache.hasKid('k2') && Date.now() < deadline) await sleep(20);
    assert.ok(cache.hasKid('k2'), 'rotated key fetched in the background');
    assert.equal(cache.hasKid('k1'), false);
    assert.ok(outcomes.length >= 2 && outcomes.every((outcome) => outcome === 'ok'));
    cache.close();
  });
});
