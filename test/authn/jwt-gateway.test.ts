import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startJwksServer, type JwksServer } from './jwt-fixtures.js';

const ISS = 'https://idp.test';
const AUD = 'orders-api';

async function keyPair(kid: string) {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { ...pair, kid, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' } as JWK };
}

describe('JWT authentication through the running gateway', () => {
  let upstream: TestUpstream;
  let jwks: JwksServer;
  let gw: TestGateway;
  let k1: Awaited<ReturnType<typeof keyPair>>;
  let k2: Awaited<ReturnType<typeof keyPair>>;

  const sign = (
    key: { privateKey: CryptoKey; kid: string },
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      sub: 'alice',
      iss: ISS,
      aud: AUD,
      iat: now,
      exp: now + 300,
      scope: 'orders:read',
      tenant: 'acme',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header })
      .sign(key.privateKey);
  };
  const get = (token: string | undefined, path = '/orders/1') =>
    fetch(gw.url + path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  const config = (audience: string): Record<string, unknown> => ({
    authn: {
      bruteForce: { maxFailures: 1000 },
      jwt: {
        issuers: {
          idp: {
            issuer: ISS,
            audience,
            algorithms: ['ES256'],
            jwksUri: jwks.url,
            jwks: { cooldownSec: 0, timeoutMs: 1000 },
            claims: { tenant: 'tenant' },
          },
        },
      },
    },
    upstreams: { echo: { targets: [{ url: upstream.url }] } },
    routes: [
      {
        name: 'orders',
        match: { pathPrefix: '/orders' },
        upstream: 'echo',
        authorization: { roles: { authenticated: { permissions: ['*'] } } },
        authentication: {
          anyOf: ['jwt:idp'],
          forwardHeaders: {
            'x-consumer-subject': 'subject',
            'x-consumer-scopes': 'scopes',
            'x-consumer-tenant': 'tenant',
          },
        },
      },
    ],
  });

  before(async () => {
    k1 = await keyPair('k1');
    k2 = await keyPair('k2');
    upstream = await startUpstream();
    jwks = await startJwksServer({ keys: [k1.jwk] });
    gw = await startGateway(config(AUD));
  });
  after(async () => {
    await gw?.close();
    await jwks?.close();
    await upstream?.close();
  });

  test('a valid token reaches the upstream with identity headers and without the credential', async () => {
    const response = await get(await sign(k1));
    assert.equal(response.status, 200);
    const echoed = (await response.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers['x-consumer-subject'], 'alice');
    assert.equal(echoed.headers['x-consumer-scopes'], 'orders:read');
    assert.equal(echoed.headers['x-consumer-tenant'], 'acme');
    assert.equal(echoed.headers.authorization, undefined);
  });

  test('attacks get the same 401 with a Bearer challenge, and never reach the upstream', async () => {
    const before = upstream.requests.length;
    const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'admin', iss: ISS, aud: AUD, exp: now + 300 };
    const attacker = await keyPair('k1');
    const good = await sign(k1);
    const [h, , s] = good.split('.');
    const tokens = [
      `${enc({ alg: 'none' })}.${enc(payload)}.`,
      `${h}.${enc(payload)}.${s}`,
      await sign(k1, { exp: now - 100 }),
      await sign(k1, { nbf: now + 600 }),
      await sign(k1, { iss: 'https://evil.test' }),
      await sign(k1, { aud: 'another-api' }),
      await sign(attacker, {}, { jwk: attacker.jwk }),
      await sign(attacker, {}, { jku: 'http://127.0.0.1:1/jwks.json' }),
      `${enc({ alg: 'ES256', kid: 'k1' })}.${enc(payload)}.${base64url.encode(Buffer.alloc(64))}`,
      await sign(k1, { pad: 'x'.repeat(9000) }),
    ];
    let body: string | undefined;
    for (const token of tokens) {
      const response = await get(token);
      assert.equal(response.status, 401);
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /Bearer realm="portcullis", error="invalid_token"/,
      );
      const { requestId: _ignored, ...rest } = (await response.json()) as Record<string, unknown>;
      const text = JSON.stringify(rest);
      body ??= text;
      assert.equal(text, body, 'same body whatever the reason');
    }
    assert.equal(upstream.requests.length, before);
    const missing = await get(undefined);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="portcullis"');
    const reasons = gw.logs.map((line) => line.authnReason).filter((reason) => typeof reason === 'string');
    for (const reason of [
      'jwt_alg_not_allowed',
      'jwt_bad_signature',
      'jwt_expired',
      'bearer_token_too_large',
    ]) {
      assert.ok(reasons.includes(reason), `${reason} logged (${reasons.join(',')})`);
    }
    assert.ok(!gw.logText().includes(good), 'tokens never logged');
  });

  test('JWKS rotation while serving, then the JWKS server goes down: stale keys keep serving', async () => {
    const old = await sign(k1);
    assert.equal((await get(old)).status, 200);
    jwks.body = JSON.stringify({ keys: [k1.jwk, k2.jwk] });
    assert.equal((await get(await sign(k2))).status, 200, 'new key picked up on first sight');
    jwks.body = JSON.stringify({ keys: [k2.jwk] });
    assert.equal((await get(await sign(k1, { sub: 'unknown-kid-probe' }, { kid: 'k9' }))).status, 401);
    assert.equal((await get(old)).status, 401, 'removed key no longer accepted, cached or not');
    jwks.status = 500;
    assert.equal((await get(await sign(k1, {}, { kid: 'k8' }))).status, 401);
    assert.equal(
      (await get(await sign(k2, { sub: 'bob' }))).status,
      200,
      'stale keys served while the JWKS fails',
    );
  });

  test('a reload applies the new issuer settings and keeps the JWKS cache (no refetch)', async () => {
    const hits = jwks.hits;
    await gw.reload(config('billing-api'));
    assert.equal((await get(await sign(k2, { sub: 'old-aud' }))).status, 401);
    assert.equal((await get(await sign(k2, { sub: 'new-aud', aud: 'billing-api' }))).status, 200);
    assert.equal(jwks.hits, hits, 'keys came from the cache that survived the reload (the JWKS is failing)');
  });
});
