import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { Agent, request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { createTestPki, type Pem, type TestPki } from '../authn/client-cert-fixtures.js';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const ISSUER = 'https://gw.test';

describe('OAuth server, local JWT issuer and mutual TLS through the running gateway', () => {
  let pki: TestPki;
  let dir: string;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const agents = new Map<string, Agent>();
  let client: { clientId: string; clientSecret: string };
  let jwtClientId: string;
  let clientKey: { privateKey: CryptoKey; publicKey: CryptoKey };

  const agentFor = (pem: Pem | undefined): Agent => {
    const name = pem?.certFile ?? 'none';
    let agent = agents.get(name);
    if (agent === undefined) {
      agent = new Agent({
        connect: {
          rejectUnauthorized: false,
          ...(pem === undefined ? {} : { cert: pem.cert, key: pem.key }),
        },
      });
      agents.set(name, agent);
    }
    return agent;
  };

  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { cert?: Pem; headers?: Record<string, string>; form?: Record<string, string> } = {},
  ) {
    const response = await request(gw.url + path, {
      method,
      dispatcher: agentFor(options.cert),
      headers: {
        ...options.headers,
        ...(options.form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(options.form === undefined ? {} : { body: new URLSearchParams(options.form).toString() }),
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      headers: response.headers,
      json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> & {
        headers?: Record<string, string>;
      },
    };
  }

  const admin = async (path: string, body: unknown) => {
    const response = await fetch(`${gw.adminUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    return (await response.json()) as Record<string, unknown>;
  };

  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
  });

  async function token(cert?: Pem, scope?: string) {
    const reply = await call('POST', '/oauth/token', {
      ...(cert === undefined ? {} : { cert }),
      headers: basic(client.clientId, client.clientSecret),
      form: { grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    return reply.json.access_token as string;
  }

  before(async () => {
    pki = createTestPki();
    dir = await mkdtemp(join(tmpdir(), 'portcullis-oauth-gw-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    upstream = await startUpstream();
    gw = await startGateway(
      {
        listeners: [
          {
            host: '127.0.0.1',
            port: 0,
            tls: {
              certificates: [{ cert: pki.server.certFile, key: `${pki.dir}/server.key` }],
              clientAuth: { mode: 'request', ca: pki.ca.certFile, crl: pki.crlFile },
            },
          },
        ],
        admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
        store: { type: 'sqlite', path: 'store.db' },
        secrets: { kek: { provider: 'file', path: 'kek.key' } },
        oauthServer: { issuer: ISSUER, tokenTtlSec: 300, certificateBoundTokens: true },
        authn: {
          bruteForce: { maxFailures: 1000 },
          jwt: { issuers: { gateway: { local: true, algorithms: ['ES256'], typ: 'at+jwt' } } },
          mtls: {
            consumers: [{ san: 'URI:spiffe://acme/svc-b', name: 'billing-service', roles: ['billing'] }],
          },
        },
        upstreams: { echo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'oauth',
            match: { pathPrefix: '/oauth' },
            public: true,
            oauthServer: { basePath: '/oauth' },
          },
          {
            name: 'oauth-metadata',
            match: { path: '/.well-known/oauth-authorization-server' },
            public: true,
            oauthServer: {},
          },
          {
            name: 'orders',
            match: { pathPrefix: '/orders' },
            upstream: 'echo',
            authorization: { roles: { authenticated: { permissions: ['*'] } } },
            authentication: {
              anyOf: ['jwt:gateway'],
              forwardHeaders: {
                'x-consumer-id': 'consumerId',
                'x-consumer-roles': 'roles',
                'x-consumer-tenant': 'tenant',
                'x-consumer-scopes': 'scopes',
              },
            },
          },
          {
            name: 'internal',
            match: { pathPrefix: '/internal' },
            upstream: 'echo',
            authorization: { roles: { authenticated: { permissions: ['*'] } } },
            authentication: {
              anyOf: ['mtls'],
              forwardHeaders: { 'x-consumer-subject': 'subject', 'x-consumer-roles': 'roles' },
            },
          },
        ],
      },
      { dir },
    );
    const consumer = await admin('/admin/consumers', {
      name: 'billing',
      roles: ['billing-reader'],
      tenant: 'acme',
    });
    const created = await admin(`/admin/consumers/${String(consumer.id)}/clients`, {
      allowedScopes: ['orders:read', 'orders:write'],
    });
    client = { clientId: created.clientId as string, clientSecret: created.clientSecret as string };
    clientKey = await generateKeyPair('ES256');
    const jwtClient = await admin(`/admin/consumers/${String(consumer.id)}/clients`, {
      allowedScopes: ['orders:read'],
      jwks: { keys: [{ ...(await exportJWK(clientKey.publicKey)), kid: 'c1', alg: 'ES256' }] },
    });
    jwtClientId = jwtClient.clientId as string;
  });
  after(async () => {
    for (const agent of agents.values()) await agent.close();
    await gw?.close();
    await upstream?.close();
    pki?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('metadata and JWKS are answered by the gateway', async () => {
    const meta = await call('GET', '/.well-known/oauth-authorization-server');
    assert.equal(meta.status, 200);
    assert.equal(meta.json.token_endpoint, `${ISSUER}/oauth/token`);
    assert.equal(meta.json.tls_client_certificate_bound_access_tokens, true);
    await token();
    const jwks = await call('GET', '/oauth/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(Array.isArray(jwks.json.keys) && jwks.json.keys.length > 0);
  });

  test('client_credentials token opens the API; identity comes from the consumer', async () => {
    const access = await token(undefined, 'orders:read');
    const reply = await call('GET', '/orders/7', { headers: { authorization: `Bearer ${access}` } });
    assert.equal(reply.status, 200);
    const headers = reply.json.headers as Record<string, string>;
    assert.equal(headers['x-consumer-tenant'], 'acme');
    assert.equal(headers['x-consumer-scopes'], 'orders:read');
    assert.match(headers['x-consumer-roles'] ?? '', /billing-reader/);
    assert.equal(headers.authorization, undefined);
  });

  test('token endpoint errors are RFC 6749 JSON', async () => {
    const wrong = await call('POST', '/oauth/token', {
      headers: basic(client.clientId, 'nope'),
      form: { grant_type: 'client_credentials' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'invalid_client');
    assert.match(String(wrong.headers['content-type']), /^application\/json/);
    assert.match(String(wrong.headers['www-authenticate']), /^Basic /);
    const escalate = await call('POST', '/oauth/token', {
      headers: basic(client.clientId, client.clientSecret),
      form: { grant_type: 'client_credentials', scope: 'orders:read admin' },
    });
    assert.equal(escalate.status, 400);
    assert.equal(escalate.json.error, 'invalid_scope');
    assert.ok(!gw.logText().includes(client.clientSecret), 'client secret never logged');
  });

  test('private_key_jwt, and a replayed assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: jwtClientId,
      sub: jwtClientId,
      aud: `${ISSUER}/oauth/token`,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'c1' })
      .sign(clientKey.privateKey);
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    const first = await call('POST', '/oauth/token', { form });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const api = await call('GET', '/orders/1', {
      headers: { authorization: `Bearer ${String(first.json.access_token)}` },
    });
    assert.equal(api.status, 200);
    const replay = await call('POST', '/oauth/token', { form });
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'invalid_client');
  });

  test('revocation takes effect at once', async () => {
    const access = await token();
    const auth = { authorization: `Bearer ${access}` };
    assert.equal((await call('GET', '/orders/1', { headers: auth })).status, 200);
    const revoked = await call('POST', '/oauth/revoke', {
      headers: basic(client.clientId, client.clientSecret),
      form: { token: access },
    });
    assert.equal(revoked.status, 200);
    const after = await call('GET', '/orders/1', { headers: auth });
    assert.equal(after.status, 401);
    assert.ok(gw.logs.some((line) => line.authnReason === 'jwt_revoked'));
    const events = gw.logs.filter((line) => line.audit === true).map((line) => line.event);
    for (const event of ['oauth_token_issued', 'oauth_token_revoked', 'oauth_request_refused']) {
      assert.ok(events.includes(event), `${event} audited`);
    }
    assert.ok(!gw.logText().includes(access), 'access tokens never logged');
  });

  test('certificate-bound token: only the certificate it was issued to may use it', async () => {
    const bound = await token(pki.client);
    const auth = { authorization: `Bearer ${bound}` };
    assert.equal((await call('GET', '/orders/1', { headers: auth, cert: pki.client })).status, 200);
    assert.equal((await call('GET', '/orders/1', { headers: auth, cert: pki.client2 })).status, 401);
    assert.equal((await call('GET', '/orders/1', { headers: auth })).status, 401);
    const reasons = gw.logs.map((line) => line.authnReason);
    assert.ok(reasons.includes('jwt_certificate_mismatch'));
    assert.ok(reasons.includes('jwt_certificate_missing'));
  });

  test('mTLS route: trusted certificates map to identities; none, untrusted and expired are refused', async () => {
    const a = await call('GET', '/internal/x', { cert: pki.client });
    assert.equal(a.status, 200);
    assert.equal((a.json.headers as Record<string, string>)['x-consumer-subject'], 'svc-a');
    const b = await call('GET', '/internal/x', { cert: pki.client2 });
    assert.equal((b.json.headers as Record<string, string>)['x-consumer-subject'], 'billing-service');
    assert.equal((b.json.headers as Record<string, string>)['x-consumer-roles'], 'billing');
    const none = await call('GET', '/internal/x');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Mutual realm=/);
    assert.equal((await call('GET', '/internal/x', { cert: pki.rogue })).status, 401);
    assert.equal((await call('GET', '/internal/x', { cert: pki.expired })).status, 401);
    assert.equal((await call('GET', '/internal/x', { cert: pki.revoked })).status, 401, 'listener CRL');
    const reasons = gw.logs
      .map((line) => line.authnReason)
      .filter((reason): reason is string => typeof reason === 'string');
    assert.ok(
      reasons.some((reason) => reason.startsWith('mtls_untrusted_')),
      reasons.join(','),
    );
    assert.ok(reasons.includes('mtls_untrusted_cert_revoked'), reasons.join(','));
  });
});
