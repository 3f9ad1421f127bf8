import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SPEC } from './bank-spec.js';
import { authzGateway, type AuthzGateway } from './harness.js';

describe('authorization driven by the OpenAPI document', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      files: { 'bank.yaml': SPEC },
      consumers: [
        {
          name: 'alice',
          roles: ['user'],
          attributes: { account_id: 'acc-alice' },
          scopes: ['accounts:read', 'profiles:write'],
        },
        { name: 'noscope', roles: ['user'], attributes: { account_id: 'acc-noscope' } },
        { name: 'ops', roles: ['ops'], attributes: { account_id: 'acc-ops' }, scopes: ['admin'] },
        { name: 'root', roles: ['root'], attributes: { account_id: 'acc-root' }, scopes: ['accounts:read'] },
      ],
      routes: [
        {
          name: 'bank',
          match: { pathPrefix: '/v1' },
          openapi: { spec: 'bank.yaml', basePath: '/v1', validateRequests: false },
          authorization: {
            roles: {
              user: { permissions: ['getAccount', 'updateProfile', 'listOrders', 'GET /v1/users/{id}'] },
              ops: { permissions: ['listOrders', '* /v1/users/{id}'] },
              root: { permissions: ['*'] },
            },
            ownership: [
              { operation: 'getAccount', param: 'path.accountId', equals: 'identity.attributes.account_id' },
              { operation: 'updateProfile', param: 'body./ownerId', equals: 'identity.subject' },
            ],
          },
        },
        {
          name: 'lenient',
          match: { pathPrefix: '/lenient' },
          openapi: { spec: 'bank.yaml', basePath: '/lenient', strict: false, validateRequests: false },
          authorization: {
            roles: { root: { permissions: ['*'] }, user: { permissions: ['* /lenient/**'] } },
            scopes: false,
            ownership: [
              { operation: 'getAccount', param: 'path.accountId', equals: 'identity.attributes.account_id' },
            ],
            properties: [{ operation: 'updateProfile', write: { user: ['name'] } }],
          },
        },
      ],
    });
  });
  after(() => h.close());

  test('operation scopes are enforced by default with an RFC 6750 challenge', async () => {
    assert.equal((await h.call('alice', '/v1/accounts/acc-alice')).status, 200);
    const res = await h.call('noscope', '/v1/accounts/acc-noscope');
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", scope="accounts:read"',
    );
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'insufficient_scope');
    assert.equal(body.title, 'Access denied');
  });

  test('alternative requirements: any one suffices', async () => {
    assert.equal((await h.call('ops', '/v1/orders')).status, 200, 'admin scope is the second alternative');
    const res = await h.call('alice', '/v1/orders');
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="orders:read"/);
  });

  test('ownership by operationId: swapped ids in path and body are refused', async () => {
    assert.equal((await h.call('alice', '/v1/accounts/acc-ops')).status, 403);
    const put = (ownerId: string) =>
      h.call('alice', '/v1/profiles/1', {
        method: 'PUT',
        body: JSON.stringify({ ownerId }),
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await put('alice')).status, 200);
    assert.equal((await put('ops')).status, 403);
  });

  test('x-portcullis-privileged needs an explicit permission', async () => {
    assert.equal((await h.call('ops', '/v1/users/1')).status, 200);
    assert.equal(
      (await h.call('ops', '/v1/users/1', { method: 'DELETE' })).status,
      403,
      'a wildcard method does not grant it',
    );
    assert.equal((await h.call('root', '/v1/users/1', { method: 'DELETE' })).status, 200);
  });

  test('unmatched spellings on a non-strict route stay under the operation rules', async () => {
    assert.equal((await h.call('alice', '/lenient/accounts/acc-alice')).status, 200);
    for (const path of [
      '/lenient/accounts/acc-ops',
      '/lenient/ACCOUNTS/acc-ops',
      '/lenient/accounts/acc-ops/',
      '/lenient/Accounts;x=1/acc-ops',
    ]) {
      const before = h.upstream.requests.length;
      const res = await h.call('alice', path);
      assert.ok([400, 403, 404].includes(res.status), `${path} -> ${res.status}`);
      assert.equal(h.upstream.requests.length, before, path);
    }
  });

  test('privileged and property rules by operationId hold for unmatched spellings too', async () => {
    assert.equal((await h.call('alice', '/lenient/users/1')).status, 200);
    for (const path of ['/lenient/users/1', '/lenient/USERS/1', '/lenient/users/1/']) {
      assert.equal((await h.call('alice', path, { method: 'DELETE' })).status, 403, path);
    }
    const put = (path: string, body: unknown) =>
      h.call('alice', path, {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await put('/lenient/profiles/1', { name: 'A' })).status, 200);
    for (const path of ['/lenient/profiles/1', '/lenient/Profiles/1', '/lenient/profiles//1']) {
      assert.equal((await put(path, { name: 'A', isAdmin: true })).status, 403, path);
    }
  });
});
