import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

describe('object-level authorization (BOLA) through the gateway', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      consumers: [
        { name: 'alice', roles: ['user'], attributes: { account_id: 'acc-alice', tenants: ['t1', 't2'] } },
        { name: 'bob', roles: ['user'], attributes: { account_id: 'acc-bob', tenants: ['t3'] } },
        { name: 'support', roles: ['support'], attributes: {} },
        { name: 'carol', roles: ['power'], attributes: { account_id: 'acc-carol' } },
      ],
      roles: {
        user: {
          permissions: ['GET /accounts/{accountId}', 'GET /orders', 'PUT /profiles/{id}', 'POST /transfers'],
        },
        support: { inherits: ['user'] },
        power: { permissions: ['*'] },
      },
      routes: [
        {
          name: 'bank',
          match: { pathPrefix: '/' },
          authorization: {
            ownership: [
              {
                operation: 'GET /accounts/{accountId}',
                param: 'path.accountId',
                equals: 'identity.attributes.account_id',
                exemptRoles: ['support'],
              },
              { operation: 'GET /orders', param: 'query.tenantId', in: 'identity.attributes.tenants' },
              {
                operation: ['PUT /profiles/{id}', 'POST /transfers'],
                param: 'body./ownerId',
                equals: 'identity.subject',
              },
            ],
          },
        },
      ],
    });
  });
  after(() => h.close());

  test('each caller reaches their own account', async () => {
    const alice = await h.call('alice', '/accounts/acc-alice');
    assert.equal(alice.status, 200);
    const bob = await h.call('bob', '/accounts/acc-bob');
    assert.equal(bob.status, 200);
  });

  test('swapping the account id in the path is refused with a generic 403', async () => {
    const before = h.upstream.requests.length;
    const res = await h.call('alice', '/accounts/acc-bob');
    assert.equal(res.status, 403);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'forbidden');
    assert.equal(body.title, 'Access denied');
    assert.equal(body.detail, undefined);
    assert.equal(JSON.stringify(body).includes('acc-bob'), false);
    const other = await h.call('bob', '/accounts/acc-alice');
    assert.equal(other.status, 403);
    assert.deepEqual(
      await other.json().then((b) => Object.keys(b as object).sort()),
      Object.keys(body).sort(),
    );
    assert.equal(h.upstream.requests.length, before, 'refused requests never reach the upstream');
    const audit = h.audits().find((line) => line.event === 'authz_denied' && line.check === 'ownership');
    assert.ok(audit, 'the refusal is audited');
    assert.equal(audit.reason, 'not_equal');
    assert.equal(audit.subject, 'alice');
    const access = h.gw.logs.find(
      (line) =>
        (line.authz as Record<string, unknown> | undefined)?.check === 'ownership' && line.status === 403,
    );
    assert.ok(access, 'the decision is in the access log');
    const decision = access.authz as Record<string, unknown>;
    assert.equal(decision.decision, 'deny');
    assert.equal(decision.subject, 'alice');
    assert.deepEqual(decision.inputs, {
      'path.accountId': ['acc-bob'],
      'identity.attributes.account_id': 'acc-alice',
    });
    assert.doesNotMatch(h.gw.logText(), new RegExp(h.keys.alice as string), 'no credential in logs');
    const metrics = await h.gw.gateway.services.metrics.registry.metrics();
    assert.match(
      metrics,
      /portcullis_authz_denials_total\{route="bank",check="ownership",reason="not_equal"\} [1-9]/,
    );
  });

  test('exempt roles skip the rule', async () => {
    assert.equal((await h.call('support', '/accounts/acc-bob')).status, 200);
  });

  test('path spelling tricks do not bypass the rule', async () => {
    for (const path of [
      '/accounts/acc-bob/',
      '/accounts//acc-bob',
      '/Accounts/acc-bob',
      '/ACCOUNTS/acc-bob',
      '/accounts/acc-bob;x=1',
      '/accounts/%61cc-bob',
      '/accounts/x/../acc-bob',
      '/accounts/x/%2e%2e/acc-bob',
      '/accounts/./acc-bob',
      '/accounts/acc-alice/../acc-bob',
      '/accounts/acc-alice%2f..%2facc-bob',
    ]) {
      const res = await h.call('alice', path);
      assert.ok(res.status === 403 || res.status === 400 || res.status === 404, `${path} -> ${res.status}`);
    }
  });

  test('path tricks cannot skip the rule even for a caller every operation is granted to', async () => {
    assert.equal((await h.call('carol', '/accounts/acc-carol')).status, 200);
    for (const path of [
      '/accounts/acc-bob',
      '/accounts/acc-bob/',
      '/accounts//acc-bob',
      '//accounts/acc-bob',
      '/Accounts/acc-bob',
      '/ACCOUNTS/acc-bob',
      '/accounts/acc-bob;jsessionid=1',
      '/accounts;x/acc-bob',
      '/accounts/%61cc-bob',
      '/%61ccounts/acc-bob',
      '/accounts/x/%2e%2e/acc-bob',
      '/accounts/x/%2E%2E/acc-bob',
      '/accounts/acc-carol/../acc-bob',
      '/accounts/acc-carol%2f..%2facc-bob',
      '/accounts/acc-carol%252f..%252facc-bob',
    ]) {
      const before = h.upstream.requests.length;
      const res = await h.call('carol', path);
      assert.ok([400, 403, 404].includes(res.status), `${path} -> ${res.status}`);
      assert.equal(h.upstream.requests.length, before, `${path} reached the upstream`);
    }
  });

  test('query parameter tenant swap is refused, including parameter pollution', async () => {
    assert.equal((await h.call('alice', '/orders?tenantId=t2')).status, 200);
    assert.equal((await h.call('alice', '/orders?tenantId=t3')).status, 403);
    assert.equal((await h.call('bob', '/orders?tenantId=t1')).status, 403);
    assert.equal((await h.call('alice', '/orders?tenantId=t1&tenantId=t3')).status, 403);
    assert.equal((await h.call('alice', '/orders?tenantId=t3&tenantId=t1')).status, 403);
    assert.equal((await h.call('alice', '/orders')).status, 403, 'a missing tenant is not "all tenants"');
    assert.equal((await h.call('alice', '/orders?tenantid=t3')).status, 403);
    for (const query of [
      'tenantId=t1&TenantId=t3',
      'tenantId=t1&tenantId[]=t3',
      'tenantId=t1&tenantId[0]=t3',
      'tenantId=t1&tenant%49d=t3',
    ]) {
      assert.equal((await h.call('alice', `/orders?${query}`)).status, 403, query);
    }
  });

  test('body owner swap is refused (JSON pointer), including duplicate keys and wrong types', async () => {
    const put = (who: string, body: string, type = 'application/json') =>
      h.call(who, `/profiles/1`, { method: 'PUT', body, headers: { 'content-type': type } });
    assert.equal((await put('alice', JSON.stringify({ ownerId: 'alice', name: 'A' }))).status, 200);
    assert.equal((await put('alice', JSON.stringify({ ownerId: 'bob', name: 'A' }))).status, 403);
    assert.equal((await put('bob', JSON.stringify({ ownerId: 'alice' }))).status, 403);
    assert.equal((await put('alice', JSON.stringify({ name: 'no owner' }))).status, 403);
    assert.equal((await put('alice', JSON.stringify({ ownerId: ['alice', 'bob'] }))).status, 403);
    assert.equal((await put('alice', JSON.stringify({ ownerId: { $ne: 'x' } }))).status, 403);
    assert.equal(
      (await put('alice', '{"ownerId":"alice","OwnerId":"bob"}')).status,
      403,
      'case variants are checked too',
    );
    assert.equal((await put('alice', '{"OWNERID":"bob"}')).status, 403);
    assert.equal((await put('alice', '{"ownerId":null}')).status, 403);
    const duplicate = await put('alice', '{"ownerId":"alice","ownerId":"bob"}');
    assert.equal(duplicate.status, 400, 'duplicate keys are refused by the hardened parser');
    assert.equal((await put('alice', 'ownerId=alice', 'application/x-www-form-urlencoded')).status, 403);
    const transfer = await h.call('alice', '/transfers', {
      method: 'POST',
      body: JSON.stringify({ ownerId: 'bob', amount: 10 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(transfer.status, 403);
  });

  test('the upstream receives the body the rule checked', async () => {
    const res = await h.call('alice', '/transfers', {
      method: 'POST',
      body: JSON.stringify({ ownerId: 'alice', amount: 10 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    const echoed = (await res.json()) as { body: string };
    assert.deepEqual(JSON.parse(echoed.body), { ownerId: 'alice', amount: 10 });
  });
});
