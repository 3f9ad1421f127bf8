import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

describe('object id enumeration detection through the gateway', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      consumers: [
        { name: 'mallory', roles: ['user'], attributes: { account_id: 'acc-m' } },
        { name: 'carl', roles: ['user'], attributes: { account_id: 'acc-c' } },
        { name: 'bob', roles: ['user'], attributes: { account_id: 'acc-b' } },
      ],
      roles: { user: { permissions: ['GET /accounts/{id}', 'GET /items/{id}', 'GET /r/items/{id}'] } },
      upstream: (req, res) => {
        const known =
          req.url === '/items/1' || req.url === '/r/items/1' || req.url?.startsWith('/accounts/') === true;
        res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
        res.end(known ? '{"id":1}' : '{"error":"not found"}');
      },
      routes: [
        {
          name: 'throttled',
          match: { pathPrefix: '/' },
          authorization: {
            ownership: [
              { operation: 'GET /accounts/{id}', param: 'path.id', equals: 'identity.attributes.account_id' },
            ],
            enumeration: { maxDistinctIds: 5, windowSec: 60, action: 'throttle' },
          },
        },
        {
          name: 'reported',
          match: { pathPrefix: '/r' },
          authorization: { enumeration: { maxDistinctIds: 3, windowSec: 60 } },
        },
      ],
    });
  });
  after(() => h.close());

  test('a caller walking other ids is flagged, audited and throttled; others are not', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await h.call('mallory', `/accounts/acc-${i}`)).status, 403);
    assert.equal((await h.call('mallory', '/accounts/acc-m')).status, 200, 'still under the limit');
    assert.equal(
      (await h.call('mallory', '/accounts/acc-0')).status,
      403,
      'a repeated id does not count twice',
    );
    assert.equal(
      (await h.call('mallory', '/items/99')).status,
      404,
      'upstream 404s count too: sixth distinct id',
    );
    const event = h.audits().find((line) => line.event === 'authz_enumeration');
    assert.ok(event, 'audit event raised');
    assert.equal(event.distinctObjects, 6);
    assert.equal(event.route, 'throttled');
    const throttled = await h.call('mallory', '/accounts/acc-m');
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    assert.equal(((await throttled.json()) as { code: string }).code, 'rate_limited');
    assert.equal((await h.call('bob', '/accounts/acc-b')).status, 200, 'other callers are not affected');
  });

  test('report mode audits without throttling', async () => {
    for (let i = 2; i < 7; i++) assert.equal((await h.call('carl', `/r/items/${i}`)).status, 404);
    assert.ok(h.audits().some((line) => line.event === 'authz_enumeration' && line.route === 'reported'));
    assert.equal((await h.call('carl', '/r/items/1')).status, 200);
  });
});
