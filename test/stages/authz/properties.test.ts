import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

const PROFILE = {
  id: 7,
  name: 'Alice',
  email: 'a@example.test',
  passwordHash: '$2b$10$abcdefghijklmnopqrstuv',
  isAdmin: false,
  balance: 1000,
  address: { city: 'Bern', street: 'Secret 1' },
  orders: [
    { sku: 'A', internalCost: 3 },
    { sku: 'B', internalCost: 4 },
  ],
};

describe('property-level authorization through the gateway', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      consumers: [
        { name: 'user', roles: ['user'] },
        { name: 'admin', roles: ['admin'] },
        { name: 'guest', roles: ['guest'] },
      ],
      roles: { user: { permissions: ['*'] }, admin: { permissions: ['*'] }, guest: { permissions: ['*'] } },
      upstream: (req, res) => {
        if (req.url?.startsWith('/gzip')) {
          const body = gzipSync(JSON.stringify(PROFILE));
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(body);
          return;
        }
        if (req.url?.startsWith('/untyped')) {
          res.writeHead(200);
          res.end(`  ${JSON.stringify(PROFILE)}`);
          return;
        }
        if (req.url?.startsWith('/text')) {
          res.writeHead(200, { 'content-type': 'text/csv' });
          res.end('id,name\n7,Alice\n');
          return;
        }
        if (req.url?.startsWith('/broken')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"passwordHash": "x", ');
          return;
        }
        const body = req.url === '/profiles' ? JSON.stringify([PROFILE, PROFILE]) : JSON.stringify(PROFILE);
        res.writeHead(req.method === 'PUT' ? 200 : 200, {
          'content-type': 'application/json; charset=utf-8',
        });
        res.end(body);
      },
      routes: [
        {
          name: 'profiles',
          match: { pathPrefix: '/' },
          authorization: {
            properties: [
              {
                operation: ['PUT /profiles/{id}', 'PATCH /profiles/{id}'],
                write: { user: ['name', 'email', 'address.city'], admin: '*' },
              },
              {
                operation: [
                  'GET /profiles',
                  'GET /profiles/{id}',
                  'GET /gzip',
                  'GET /broken',
                  'GET /untyped',
                  'GET /text',
                ],
                read: { user: ['id', 'name', 'email', 'address.city', 'orders.sku'], admin: '*' },
              },
            ],
          },
        },
      ],
    });
  });
  after(() => h.close());

  const put = (who: string, body: unknown, method = 'PUT') =>
    h.call(who, '/profiles/7', {
      method,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  test('allowed properties can be written', async () => {
    assert.equal((await put('user', { name: 'A', email: 'a@b.c', address: { city: 'Zug' } })).status, 200);
  });

  test('mass assignment of isAdmin, balance and nested fields is refused', async () => {
    for (const body of [
      { name: 'A', isAdmin: true },
      { balance: 1e9 },
      { address: { city: 'Zug', street: 'x' } },
      { address: 'a whole replacement' },
      { name: 'A', passwordHash: 'x' },
      [{ name: 'A' }, { isAdmin: true }],
    ]) {
      const before = h.upstream.requests.length;
      const res = await put('user', body);
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.equal(h.upstream.requests.length, before);
    }
    assert.equal((await put('user', { isAdmin: true }, 'PATCH')).status, 403);
    assert.equal((await put('guest', { name: 'A' })).status, 403, 'a role with no write list writes nothing');
    const audit = h.audits().find((line) => line.reason === 'mass_assignment');
    assert.ok(audit);
  });

  test('prototype keys and non-JSON bodies cannot sneak past the check', async () => {
    const proto = await h.call('user', '/profiles/7', {
      method: 'PUT',
      body: '{"name":"A","__proto__":{"isAdmin":true}}',
      headers: { 'content-type': 'application/json' },
    });
    assert.ok([400, 403].includes(proto.status));
    const form = await h.call('user', '/profiles/7', {
      method: 'PUT',
      body: 'name=A&isAdmin=true',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 403);
  });

  test('admins may write anything', async () => {
    assert.equal((await put('admin', { isAdmin: true, balance: 5 })).status, 200);
  });

  test('responses keep only the readable properties, recursively through arrays', async () => {
    const one = await h.call('user', '/profiles/7');
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), {
      id: 7,
      name: 'Alice',
      email: 'a@example.test',
      address: { city: 'Bern' },
      orders: [{ sku: 'A' }, { sku: 'B' }],
    });
    const list = await h.call('user', '/profiles');
    const items = (await list.json()) as Record<string, unknown>[];
    assert.equal(items.length, 2);
    for (const item of items) {
      assert.equal(item.passwordHash, undefined);
      assert.equal(item.balance, undefined);
      assert.equal(item.isAdmin, undefined);
    }
    assert.deepEqual(await (await h.call('admin', '/profiles/7')).json(), PROFILE);
    assert.deepEqual(await (await h.call('guest', '/profiles/7')).json(), {});
  });

  test('the upstream is asked for an unencoded body; an encoded one is withheld', async () => {
    await h.call('user', '/profiles/7', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(h.upstream.requests.at(-1)?.headers['accept-encoding'], undefined);
    const res = await h.call('user', '/gzip');
    assert.equal(res.status, 502);
    assert.doesNotMatch(await res.text(), /passwordHash/);
  });

  test('a JSON body without a content type is filtered too; other types pass', async () => {
    const untyped = await h.call('user', '/untyped');
    assert.equal(untyped.status, 200);
    const body = JSON.parse(await untyped.text()) as Record<string, unknown>;
    assert.equal(body.passwordHash, undefined);
    assert.equal(body.name, 'Alice');
    const csv = await h.call('user', '/text');
    assert.equal(await csv.text(), 'id,name\n7,Alice\n');
  });

  test('an unparseable JSON response is withheld, not passed through', async () => {
    const res = await h.call('user', '/broken');
    assert.equal(res.status, 502);
    assert.doesNotMatch(await res.text(), /passwordHash/);
  });
});
