import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

/** A raw HTTP/1.1 request (fetch would normalise the method). */
function raw(url: string, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('function-level authorization (BFLA) through the gateway', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      consumers: [
        { name: 'user', roles: ['user'] },
        { name: 'wide', roles: ['wide'] },
        { name: 'admin', roles: ['admin'] },
      ],
      roles: {
        admin: { permissions: ['*'] },
        user: { permissions: ['GET /users/{id}', 'POST /users/{id}', 'GET /public/**'] },
        wide: { permissions: ['* /users/**', '* /admin/**'] },
      },
      routes: [
        {
          name: 'strict',
          match: { pathPrefix: '/' },
          authorization: { privileged: ['DELETE /users/{id}', 'GET /admin/stats'] },
        },
        {
          name: 'tunnel',
          match: { pathPrefix: '/tunnel' },
          authorization: {
            methodOverride: true,
            roles: { user: { permissions: ['POST /tunnel/users/{id}', 'GET /tunnel/users/{id}'] } },
            privileged: ['DELETE /tunnel/users/{id}'],
          },
        },
      ],
    });
  });
  after(() => h.close());

  test('a user cannot call the admin operation directly', async () => {
    assert.equal((await h.call('user', '/users/7', { method: 'DELETE' })).status, 403);
    assert.equal((await h.call('admin', '/users/7', { method: 'DELETE' })).status, 200);
    const audit = h.audits().find((line) => line.event === 'authz_privileged');
    assert.ok(audit, 'allowed privileged calls are audited');
  });

  test('wildcard permissions never grant a privileged operation', async () => {
    assert.equal((await h.call('wide', '/users/7')).status, 200);
    assert.equal((await h.call('wide', '/users/7', { method: 'PUT' })).status, 200);
    assert.equal((await h.call('wide', '/users/7', { method: 'DELETE' })).status, 403);
    assert.equal((await h.call('wide', '/admin/stats')).status, 403);
    assert.equal((await h.call('wide', '/ADMIN/stats')).status, 403);
    assert.equal((await h.call('wide', '/admin/stats/')).status, 403);
  });

  test('override headers are ignored and stripped: the upstream sees the authorised POST', async () => {
    for (const header of [
      'x-http-method-override',
      'x-http-method',
      'x-method-override',
      'X-HTTP-Method-Override',
    ]) {
      const before = h.upstream.requests.length;
      const res = await h.call('user', '/users/7', { method: 'POST', headers: { [header]: 'DELETE' } });
      assert.equal(res.status, 200, header);
      const seen = h.upstream.requests[before];
      assert.ok(seen);
      assert.equal(seen.method, 'POST');
      for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
        assert.equal(seen.headers[name], undefined, `${name} must not reach the upstream`);
      }
    }
  });

  test('_method in the query is stripped in every spelling', async () => {
    for (const query of [
      '_method=DELETE',
      '_METHOD=delete',
      '%5Fmethod=DELETE',
      '_%6Dethod=DELETE',
      'a=1&_method=DELETE&b=2',
    ]) {
      const before = h.upstream.requests.length;
      const res = await h.call('user', `/users/7?${query}`, { method: 'POST' });
      assert.equal(res.status, 200, query);
      const seen = h.upstream.requests[before];
      assert.ok(seen);
      assert.equal(seen.method, 'POST');
      assert.doesNotMatch(decodeURIComponent(seen.url).toLowerCase(), /_method/, query);
    }
    const kept = h.upstream.requests.at(-1);
    assert.equal(kept?.url, '/users/7?a=1&b=2');
  });

  test('_method in a form body is refused', async () => {
    const form = await h.call('user', '/users/7', {
      method: 'POST',
      body: 'name=x&_method=DELETE',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 403);
    const data = new FormData();
    data.set('_method', 'DELETE');
    const multipart = await h.call('user', '/users/7', { method: 'POST', body: data });
    assert.equal(multipart.status, 403);
    const plain = await h.call('user', '/users/7', {
      method: 'POST',
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(plain.status, 200);
  });

  test('large multipart uploads pass unless they carry _method', async () => {
    const big = new Blob([new Uint8Array(2 * 1024 * 1024)]);
    const upload = new FormData();
    upload.set('file', big, 'a.bin');
    assert.equal((await h.call('user', '/users/7', { method: 'POST', body: upload })).status, 200);
    const tunnel = new FormData();
    tunnel.set('file', big, 'a.bin');
    tunnel.set('_method', 'DELETE');
    assert.equal((await h.call('user', '/users/7', { method: 'POST', body: tunnel })).status, 403);
  });

  test('lower-case and unknown methods do not reach the admin operation', async () => {
    const url = h.gw.url;
    const before = h.upstream.requests.length;
    for (const method of ['delete', 'Delete', 'PURGE', 'PROPFIND']) {
      const status = await raw(url, method, '/users/7', { 'x-api-key': h.keys.user as string }).catch(
        () => 400,
      );
      assert.ok([400, 403, 405, 501].includes(status), `${method} -> ${status}`);
    }
    assert.equal(h.upstream.requests.length, before);
  });

  test('HEAD is authorised as GET', async () => {
    assert.equal((await h.call('user', '/users/7', { method: 'HEAD' })).status, 200);
    assert.equal((await h.call('user', '/admin/stats', { method: 'HEAD' })).status, 403);
    assert.equal((await h.call('wide', '/admin/stats', { method: 'HEAD' })).status, 403);
    assert.equal((await h.call('admin', '/admin/stats', { method: 'HEAD' })).status, 200);
  });

  test('with methodOverride enabled the overridden method is authorised and forwarded', async () => {
    const denied = await h.call('user', '/tunnel/users/7', {
      method: 'POST',
      headers: { 'x-http-method-override': 'DELETE' },
    });
    assert.equal(denied.status, 403);
    const viaQuery = await h.call('user', '/tunnel/users/7?_method=DELETE', { method: 'POST' });
    assert.equal(viaQuery.status, 403);
    const before = h.upstream.requests.length;
    const allowed = await h.call('admin', '/tunnel/users/7', {
      method: 'POST',
      headers: { 'x-http-method-override': 'DELETE' },
    });
    assert.equal(allowed.status, 200);
    const seen = h.upstream.requests[before];
    assert.equal(seen?.method, 'DELETE');
    assert.equal(seen?.headers['x-http-method-override'], undefined);
    // overrides only apply to POST, and never select CONNECT/TRACE
    assert.equal(
      (await h.call('user', '/tunnel/users/7', { method: 'GET', headers: { 'x-http-method': 'DELETE' } }))
        .status,
      200,
    );
    const trace = await h.call('user', '/tunnel/users/7', {
      method: 'POST',
      headers: { 'x-http-method-override': 'TRACE' },
    });
    assert.equal(trace.status, 200);
    assert.equal(h.upstream.requests.at(-1)?.method, 'POST');
  });
});
