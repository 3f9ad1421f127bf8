import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { jwtFactory } from '../../src/authn/jwt-authenticator.js';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { StoreError } from '../../src/store/errors.js';
import type { Identity } from '../../src/pipeline/identity.js';
import { bearer, testBuild } from '../authn/jwt-fixtures.js';
import { ISSUER, basic, send, startOAuth, type OAuthHarness } from './fixtures.js';

const TOKEN = '/oauth/token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let h: OAuthHarness;
let clientKey: { privateKey: CryptoKey; publicKey: CryptoKey };
let otherKey: { privateKey: CryptoKey; publicKey: CryptoKey };
let local: Authenticator;

before(async () => {
  h = await startOAuth();
  clientKey = await generateKeyPair('ES256');
  otherKey = await generateKeyPair('ES256');
  await h.client({ id: 'svc', secret: 'correct horse battery staple' });
  await h.client({ id: 'svc2', secret: 'another secret value', scopes: ['billing'] });
  await h.client({
    id: 'jwt-client',
    jwks: { keys: [{ ...(await exportJWK(clientKey.publicKey)), kid: 'c1', alg: 'ES256' }] },
  });
  const build = testBuild(
    {
      ...h.config,
      authn: { jwt: { issuers: { gw: { local: true, algorithms: ['ES256', 'EdDSA'], typ: 'at+jwt' } } } },
    },
    { authentication: { anyOf: ['jwt:gw'] } },
    h.services,
  );
  local = await jwtFactory.create('gw', { ...build, configDir: h.dir });
});
after(() => h.close());

async function tokenFor(id: string, secret: string, scope?: string): Promise<string> {
  const reply = await send(h.stage, {
    path: TOKEN,
    headers: basic(id, secret),
    form: { grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) },
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  return reply.json.access_token as string;
}

function assertion(claims: Record<string, unknown> = {}, key: CryptoKey = clientKey.privateKey, kid = 'c1') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'jwt-client',
    sub: 'jwt-client',
    aud: `${ISSUER}/oauth/token`,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(key);
}

async function withAssertion(jwt: string, extra: Record<string, string> = {}) {
  return send(h.stage, {
    path: TOKEN,
    form: {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
      ...extra,
    },
  });
}

describe('OAuth authorization server: discovery', () => {
  test('RFC 8414 metadata and the JWKS', async () => {
    const meta = await send(h.stage, { method: 'GET', path: '/.well-known/oauth-authorization-server' });
    assert.equal(meta.status, 200);
    assert.equal(meta.json.issuer, ISSUER);
    assert.equal(meta.json.token_endpoint, `${ISSUER}/oauth/token`);
    assert.equal(meta.json.jwks_uri, `${ISSUER}/oauth/jwks.json`);
    assert.equal(meta.json.revocation_endpoint, `${ISSUER}/oauth/revoke`);
    assert.deepEqual(meta.json.grant_types_supported, ['client_credentials']);
    await tokenFor('svc', 'correct horse battery staple');
    const jwks = await send(h.stage, { method: 'GET', path: '/oauth/jwks.json' });
    const keys = jwks.json.keys as Record<string, unknown>[];
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.d, undefined, 'no private material published');
      assert.equal(key.alg, 'ES256');
    }
  });

  test('wrong method and unknown endpoint', async () => {
    await assert.rejects(
      Promise.resolve(
        h.stage.run((await import('./fixtures.js')).requestContext({ method: 'GET', path: TOKEN })),
      ),
      {
        code: 'method_not_allowed',
      },
    );
    await assert.rejects(
      Promise.resolve(
        h.stage.run(
          (await import('./fixtures.js')).requestContext({ method: 'GET', path: '/oauth/authorize' }),
        ),
      ),
      (error: unknown) => error instanceof GatewayError && error.code === 'not_found',
    );
  });
});

describe('client_credentials grant', () => {
  test('happy path (client_secret_basic): a short-lived at+jwt the local issuer accepts', async () => {
    const reply = await send(h.stage, {
      path: TOKEN,
      headers: basic('svc', 'correct horse battery staple'),
      form: { grant_type: 'client_credentials', scope: 'orders:read' },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.equal(reply.json.token_type, 'Bearer');
    assert.equal(reply.json.expires_in, 300);
    assert.equal(reply.json.scope, 'orders:read');
    const token = reply.json.access_token as string;
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, 'svc');
    assert.equal(typeof claims.jti, 'string');
    assert.ok((claims.exp as number) - (claims.iat as number) <= 300);
    const identity = (await local.authenticate(bearer(token))) as Identity;
    assert.equal(identity.subject, 'svc');
    assert.deepEqual(identity.scopes, ['orders:read']);
    assert.equal(typeof identity.consumerId, 'string');
    assert.equal(identity.attributes.clientId, 'svc');
  });

  test('client_secret_post, and all allowed scopes when none is requested', async () => {
    const reply = await send(h.stage, {
      path: TOKEN,
      form: {
        grant_type: 'client_credentials',
        client_id: 'svc',
        client_secret: 'correct horse battery staple',
      },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.scope, 'orders:read orders:write');
  });

  test('wrong secret, unknown client, no credentials: 401 invalid_client with a Basic challenge', async () => {
    for (const headers of [
      basic('svc', 'wrong'),
      basic('nobody', 'correct horse battery staple'),
      basic('svc2', 'correct horse battery staple'),
      {},
    ]) {
      const reply = await send(h.stage, { path: TOKEN, headers, form: { grant_type: 'client_credentials' } });
      assert.equal(reply.status, 401);
      assert.equal(reply.json.error, 'invalid_client');
      assert.match(String(reply.headers['www-authenticate']), /^Basic realm=/);
      assert.equal(reply.json.access_token, undefined);
    }
  });

  test('scope escalation: invalid_scope', async () => {
    for (const scope of ['admin', 'orders:read admin', 'billing']) {
      const reply = await send(h.stage, {
        path: TOKEN,
        headers: basic('svc', 'correct horse battery staple'),
        form: { grant_type: 'client_credentials', scope },
      });
      assert.equal(reply.status, 400);
      assert.equal(reply.json.error, 'invalid_scope');
    }
  });

  test('malformed requests', async () => {
    const auth = basic('svc', 'correct horse battery staple');
    const cases: [Record<string, unknown>, string][] = [
      [{ form: { grant_type: 'password', username: 'a', password: 'b' } }, 'unsupported_grant_type'],
      [{ form: {} }, 'invalid_request'],
      [{ form: 'grant_type=client_credentials&grant_type=client_credentials' }, 'invalid_request'],
      [{ form: { grant_type: 'client_credentials' }, contentType: 'application/json' }, 'invalid_request'],
      [
        { form: { grant_type: 'client_credentials', client_secret: 'correct horse battery staple' } },
        'invalid_request',
      ],
    ];
    for (const [request, error] of cases) {
      const reply = await send(h.stage, { path: TOKEN, headers: auth, ...request } as never);
      assert.equal(reply.json.error, error, JSON.stringify(request));
      assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
    }
  });
});

describe('private_key_jwt (RFC 7523)', () => {
  test('a valid assertion gets a token', async () => {
    const reply = await withAssertion(await assertion());
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.equal(decodeJwt(reply.json.access_token as string).sub, 'jwt-client');
  });

  test('a replayed assertion is refused', async () => {
    const jwt = await assertion();
    assert.equal((await withAssertion(jwt)).status, 200);
    const replay = await withAssertion(jwt);
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'invalid_client');
  });

  test('bad assertions are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      await assertion({}, otherKey.privateKey), // not the client's key
      await assertion({}, otherKey.privateKey, 'other'),
      await assertion({ aud: 'https://elsewhere.test/token' }),
      await assertion({ sub: 'svc' }),
      await assertion({ exp: now - 120 }),
      await assertion({ exp: now + 3600 }), // lifetime too long
      await assertion({ jti: undefined }),
      await assertion({ iss: 'svc', sub: 'svc' }), // a secret client has no keys
    ];
    for (const jwt of bad) {
      const reply = await withAssertion(jwt);
      assert.equal(reply.status, 401, decodeJwt(jwt).aud as string);
      assert.equal(reply.json.error, 'invalid_client');
    }
    const wrongType = await send(h.stage, {
      path: TOKEN,
      form: {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:x',
        client_assertion: await assertion(),
      },
    });
    assert.equal(wrongType.json.error, 'invalid_client');
    const mismatch = await withAssertion(await assertion(), { client_id: 'svc' });
    assert.equal(mismatch.json.error, 'invalid_client');
  });
});

describe('revocation (RFC 7009)', () => {
  test('a revoked token is refused by the local issuer, cached or not', async () => {
    const token = await tokenFor('svc', 'correct horse battery staple');
    assert.ok(await local.authenticate(bearer(token)));
    const reply = await send(h.stage, {
      path: '/oauth/revoke',
      headers: basic('svc', 'correct horse battery staple'),
      form: { token },
    });
    assert.equal(reply.status, 200);
    await assert.rejects(
      async () => local.authenticate(bearer(token)),
      (error: unknown) => error instanceof AuthenticationFailure && error.reason === 'jwt_revoked',
    );
    // a fresh verifier (no cache) asks the store
    const build = testBuild(
      { ...h.config, authn: { jwt: { issuers: { gw: { local: true, algorithms: ['ES256'] } } } } },
      { authentication: { anyOf: ['jwt:gw'] } },
      h.services,
    );
    const fresh = await jwtFactory.create('gw', { ...build, configDir: h.dir });
    await assert.rejects(async () => fresh.authenticate(bearer(token)), { reason: 'jwt_revoked' });
    const other = await tokenFor('svc', 'correct horse battery staple');
    assert.ok(await fresh.authenticate(bearer(other)), 'other tokens stay valid');
  });

  test('a client cannot revoke another client\u2019s token; junk tokens answer 200', async () => {
    const token = await tokenFor('svc', 'correct horse battery staple');
    const foreign = await send(h.stage, {
      path: '/oauth/revoke',
      headers: basic('svc2', 'another secret value'),
      form: { token },
    });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.json.error, 'unauthorized_client');
    assert.ok(await local.authenticate(bearer(token)));
    const junk = await send(h.stage, {
      path: '/oauth/revoke',
      headers: basic('svc2', 'another secret value'),
      form: { token: 'junk' },
    });
    assert.equal(junk.status, 200);
    const unauthenticated = await send(h.stage, { path: '/oauth/revoke', form: { token } });
    assert.equal(unauthenticated.status, 401);
  });

  test('a revoked client gets no tokens', async () => {
    await h.client({ id: 'doomed', secret: 'doomed secret value' });
    await tokenFor('doomed', 'doomed secret value');
    await h.runtime.store.updateClient('doomed', { revokedAt: Date.now() - 1 });
    const reply = await send(h.stage, {
      path: TOKEN,
      headers: basic('doomed', 'doomed secret value'),
      form: { grant_type: 'client_credentials' },
    });
    assert.equal(reply.json.error, 'invalid_client');
  });
});

describe('certificate-bound tokens', () => {
  test('cnf.x5t#S256 is added when the client presents a certificate', async () => {
    const bound = await startOAuth({ certificateBoundTokens: true });
    try {
      await bound.client({ id: 'svc', secret: 'correct horse battery staple' });
      const der = Buffer.from('pretend DER');
      const reply = await send(bound.stage, {
        path: TOKEN,
        headers: basic('svc', 'correct horse battery staple'),
        form: { grant_type: 'client_credentials' },
        tlsSocket: { getPeerCertificate: () => ({ raw: der }) } as never,
      });
      const cnf = decodeJwt(reply.json.access_token as string).cnf as Record<string, string>;
      assert.equal(typeof cnf['x5t#S256'], 'string');
    } finally {
      await bound.close();
    }
  });
});

describe('brute-force protection of the token endpoint', () => {
  test('repeated invalid_client from one address is slowed down, then blocked (even with the right secret)', async () => {
    const guarded = await startOAuth({}, { maxFailures: 4, windowSec: 60, blockSec: 60, delayMs: 1 });
    try {
      await guarded.client({ id: 'svc', secret: 'correct horse battery staple' });
      const attempt = (secret: string) =>
        send(guarded.stage, {
          path: TOKEN,
          headers: basic('svc', secret),
          form: { grant_type: 'client_credentials' },
        });
      for (let i = 0; i < 4; i += 1) assert.equal((await attempt(`guess-${i}`)).json.error, 'invalid_client');
      await assert.rejects(attempt('correct horse battery staple'), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'auth_blocked');
        assert.ok(Number(error.headers?.['retry-after']) > 0);
        return true;
      });
    } finally {
      await guarded.close();
    }
  });
});

describe('EdDSA signing keys', () => {
  test('tokens signed with Ed25519 keys from the keyring verify with a local issuer', async () => {
    const ed = await startOAuth({ signingAlg: 'EdDSA' });
    try {
      await ed.client({ id: 'svc', secret: 'correct horse battery staple' });
      const reply = await send(ed.stage, {
        path: TOKEN,
        headers: basic('svc', 'correct horse battery staple'),
        form: { grant_type: 'client_credentials' },
      });
      const token = reply.json.access_token as string;
      assert.equal(decodeProtectedHeader(token).alg, 'EdDSA');
      const build = testBuild(
        { ...ed.config, authn: { jwt: { issuers: { gw: { local: true, algorithms: ['EdDSA'] } } } } },
        { authentication: { anyOf: ['jwt:gw'] } },
        ed.services,
      );
      const verifier = await jwtFactory.create('gw', { ...build, configDir: ed.dir });
      assert.equal(((await verifier.authenticate(bearer(token))) as Identity).subject, 'svc');
      const es = testBuild(
        { ...ed.config, authn: { jwt: { issuers: { gw: { local: true, algorithms: ['ES256'] } } } } },
        { authentication: { anyOf: ['jwt:gw'] } },
        ed.services,
      );
      const esOnly = await jwtFactory.create('gw', { ...es, configDir: ed.dir });
      await assert.rejects(async () => esOnly.authenticate(bearer(token)), { reason: 'jwt_alg_not_allowed' });
    } finally {
      await ed.close();
    }
  });
});

describe('store outage', () => {
  test('the token endpoint fails closed with 503 store_unavailable', async () => {
    const down = await startOAuth();
    try {
      await down.client({ id: 'svc', secret: 'correct horse battery staple' });
      // what the PostgreSQL store throws when the database cannot be reached
      Object.assign(down.runtime.store, {
        getClient: () => Promise.reject(new StoreError('unavailable', 'the database is unavailable')),
      });
      await assert.rejects(
        send(down.stage, {
          path: TOKEN,
          headers: basic('svc', 'correct horse battery staple'),
          form: { grant_type: 'client_credentials' },
        }),
        (error: unknown) =>
          error instanceof GatewayError && error.code === 'store_unavailable' && error.status === 503,
      );
    } finally {
      await down.close();
    }
  });
});
