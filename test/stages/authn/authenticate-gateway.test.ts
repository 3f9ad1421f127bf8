import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { adminCaller } from '../../helpers/admin.js';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');

describe('authentication through the running gateway', () => {
  let dir: string;
  let upstream: TestUpstream;
  let gw: TestGateway;

  const admin = adminCaller(() => gw.adminUrl, ADMIN_TOKEN);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcs-authn-gw-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    upstream = await startUpstream();
    gw = await startGateway(
      {
        admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
        store: { type: 'sqlite', path: 'store.db' },
        secrets: { kek: { provider: 'file', path: 'kek.key' } },
        authn: { bruteForce: { maxFailures: 1000 }, apiKey: { lastUsedFlushSec: 0.2 } },
        upstreams: { echo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'orders',
            match: { pathPrefix: '/orders' },
            upstream: 'echo',
            authorization: { roles: { reader: { permissions: ['*'] } } },
            authentication: {
              anyOf: ['api_key'],
              forwardHeaders: {
                'x-consumer-id': 'consumerId',
                'x-consumer-subject': 'subject',
                'x-consumer-tenant': 'tenant',
              },
            },
          },
          {
            name: 'feed',
            match: { pathPrefix: '/feed' },
            upstream: 'echo',
            authorization: { roles: { reader: { permissions: ['*'] } } },
            authentication: { anyOf: ['api_key'], apiKeyInQuery: true },
          },
          { name: 'health', match: { path: '/health' }, upstream: 'echo', public: true },
        ],
      },
      { dir },
    );
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('admin API: consumers and keys; the key is shown once, never a hash; token required', async () => {
    assert.equal((await admin('GET', '/admin/consumers', undefined, null)).status, 401);
    assert.equal((await admin('GET', '/admin/consumers', undefined, 'x'.repeat(43))).status, 401);
    const consumer = await admin('POST', '/admin/consumers', {
      name: 'web',
      roles: ['reader'],
      tenant: 'acme',
    });
    assert.equal(consumer.status, 201);
    const created = await admin('POST', `/admin/consumers/${String(consumer.body.id)}/keys`, {
      scopes: ['orders:read'],
    });
    assert.equal(created.status, 201);
    const key = created.body.key as string;
    assert.match(key, /^pcs_/);
    const listed = await admin('GET', `/admin/keys?consumer=web`);
    assert.equal(listed.status, 200);
    const text = JSON.stringify(listed.body);
    assert.ok(!text.includes(key), 'list never returns the key');
    assert.doesNotMatch(text, /hash/i);
    assert.equal((await admin('POST', '/admin/consumers', { name: 'web' })).status, 409);
    assert.equal((await admin('POST', '/admin/consumers', { name: '' })).status, 400);
    assert.equal((await admin('POST', '/admin/consumers/nobody/keys', {})).status, 404);
    assert.equal(
      (await admin('POST', `/admin/consumers/web/keys`, { allowedCidrs: ['not-a-cidr'] })).status,
      400,
    );
    const typo = await admin('POST', `/admin/consumers/web/keys`, { scope: ['orders:write'] });
    assert.equal(typo.status, 400, 'unknown members are refused, not ignored');
    assert.match(String(typo.body.detail), /scope/);
  });

  test('valid key reaches the upstream with identity headers, without the key or spoofed headers', async () => {
    const consumer = await admin('POST', '/admin/consumers', {
      roles: ['reader'],
      name: 'fwd',
      tenant: 't9',
    });
    const { key } = (await admin('POST', '/admin/consumers/fwd/keys', {})).body as { key: string };
    const response = await fetch(gw.url + '/orders/1', {
      headers: { 'x-api-key': key, 'x-consumer-id': 'root', 'x-consumer-subject': 'admin' },
    });
    assert.equal(response.status, 200);
    const echoed = (await response.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers['x-consumer-id'], consumer.body.id);
    assert.equal(echoed.headers['x-consumer-subject'], 'fwd');
    assert.equal(echoed.headers['x-consumer-tenant'], 't9');
    assert.equal(echoed.headers['x-api-key'], undefined);
  });

  test('revocation through the admin API refuses the key within 1 s, with the same body as an unknown key', async () => {
    await admin('POST', '/admin/consumers', { roles: ['reader'], name: 'rev' });
    const created = (await admin('POST', '/admin/consumers/rev/keys', {})).body as {
      key: string;
      record: { lookupId: string };
    };
    assert.equal((await fetch(gw.url + '/orders', { headers: { 'x-api-key': created.key } })).status, 200);
    const revoked = await admin('POST', `/admin/keys/${created.record.lookupId}/revoke`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
    const start = Date.now();
    let status = 200;
    let body = '';
    while (Date.now() - start < 1000) {
      const response = await fetch(gw.url + '/orders', { headers: { 'x-api-key': created.key } });
      status = response.status;
      body = await response.text();
      if (status === 401) break;
      await sleep(25);
    }
    assert.equal(status, 401);
    const unknown = await fetch(gw.url + '/orders', { headers: { 'x-api-key': 'pcs_' + 'x'.repeat(20) } });
    assert.equal(unknown.status, 401);
    assert.match(
      unknown.headers.get('www-authenticate') ?? '',
      /ApiKey realm="portcullis", error="invalid_token"/,
    );
    const strip = (text: string) => text.replace(/"requestId":"[^"]*"/, '');
    assert.equal(strip(await unknown.text()), strip(body));
    const missing = await fetch(gw.url + '/orders');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'ApiKey realm="portcullis"');
  });

  test('rotation through the admin API: both keys work during the overlap', async () => {
    await admin('POST', '/admin/consumers', { roles: ['reader'], name: 'rot' });
    const old = (await admin('POST', '/admin/consumers/rot/keys', {})).body as {
      key: string;
      record: { lookupId: string };
    };
    const rotated = await admin('POST', `/admin/keys/${old.record.lookupId}/rotate`, { overlapSec: 3600 });
    assert.equal(rotated.status, 201);
    const fresh = rotated.body.key as string;
    assert.notEqual(fresh, old.key);
    for (const key of [old.key, fresh]) {
      assert.equal((await fetch(gw.url + '/orders', { headers: { 'x-api-key': key } })).status, 200);
    }
  });

  test('query-string key: refused where not enabled; where enabled it is stripped upstream and absent from logs', async () => {
    await admin('POST', '/admin/consumers', { roles: ['reader'], name: 'q' });
    const { key } = (await admin('POST', '/admin/consumers/q/keys', {})).body as { key: string };
    const refused = await fetch(`${gw.url}/orders?api_key=${key}`);
    assert.equal(refused.status, 401);
    const before = upstream.requests.length;
    const accepted = await fetch(`${gw.url}/feed/items?page=2&api_key=${key}`);
    assert.equal(accepted.status, 200);
    const seen = upstream.requests.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, '/feed/items?page=2');
    await sleep(50);
    assert.ok(!gw.logText().includes(key), 'the key never reaches the logs');
    assert.ok(gw.logs.some((line) => line.authnReason === 'api_key_in_query_not_allowed'));
  });

  test('last use is recorded in batches', async () => {
    await admin('POST', '/admin/consumers', { roles: ['reader'], name: 'used' });
    const created = (await admin('POST', '/admin/consumers/used/keys', {})).body as {
      key: string;
      record: { lookupId: string; lastUsedAt: string | null };
    };
    assert.equal(created.record.lastUsedAt, null);
    for (let i = 0; i < 5; i++) {
      assert.equal((await fetch(gw.url + '/orders', { headers: { 'x-api-key': created.key } })).status, 200);
    }
    let lastUsedAt: unknown = null;
    for (let i = 0; i < 50 && lastUsedAt === null; i++) {
      await sleep(50);
      lastUsedAt = (await admin('GET', `/admin/keys/${created.record.lookupId}`)).body.lastUsedAt;
    }
    assert.equal(typeof lastUsedAt, 'string');
  });

  test('public route needs no credential', async () => {
    assert.equal((await fetch(gw.url + '/health')).status, 200);
  });

  test('OAuth clients: secret shown once; public JWK accepted, private key material refused', async () => {
    await admin('POST', '/admin/consumers', { roles: ['reader'], name: 'svc' });
    const withSecret = await admin('POST', '/admin/consumers/svc/clients', {
      allowedScopes: ['orders:read'],
    });
    assert.equal(withSecret.status, 201);
    assert.equal(typeof withSecret.body.clientSecret, 'string');
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    const withJwk = await admin('POST', '/admin/consumers/svc/clients', { jwks: jwk });
    assert.equal(withJwk.status, 201);
    assert.equal(withJwk.body.clientSecret, undefined);
    const privateJwk = await admin('POST', '/admin/consumers/svc/clients', {
      jwks: { ...jwk, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' },
    });
    assert.equal(privateJwk.status, 400);
    const listed = await admin('GET', '/admin/clients?consumer=svc');
    assert.equal((listed.body as unknown as unknown[]).length, 2);
    assert.ok(!JSON.stringify(listed.body).includes(withSecret.body.clientSecret as string));
    const revoked = await admin('POST', `/admin/clients/${String(withSecret.body.clientId)}/revoke`);
    assert.equal(revoked.body.status, 'revoked');
  });
});
