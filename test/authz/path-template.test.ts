import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePathTemplate } from '../../src/authz/path-template.js';
import { parseSelector } from '../../src/authz/selector.js';
import { AuthzRequest } from '../../src/authz/request-view.js';

const req = (method: string, path: string, extra: { operationId?: string; pathTemplate?: string } = {}) =>
  new AuthzRequest(method, path, extra.operationId, extra.pathTemplate);

describe('path templates', () => {
  const t = compilePathTemplate('/accounts/{accountId}/orders/{orderId}');

  test('captures decoded parameters', () => {
    assert.deepEqual(t.match('/accounts/a%20b/orders/7', 'grant'), { accountId: 'a b', orderId: '7' });
    assert.equal(
      t.match('/accounts/%E0%A4%A/orders/7', 'grant'),
      undefined,
      'bad percent-encoding never matches',
    );
  });

  test('grants match narrowly', () => {
    assert.ok(t.match('/accounts/1/orders/2/', 'grant'), 'one trailing slash is forgiven');
    for (const path of [
      '/Accounts/1/orders/2',
      '/accounts//1/orders/2',
      '/accounts;x/1/orders/2',
      '/accounts/1/orders',
      '/accounts/1/orders/2/3',
    ]) {
      assert.equal(t.match(path, 'grant'), undefined, path);
    }
  });

  test('restrictions match broadly', () => {
    for (const path of [
      '/ACCOUNTS/1/Orders/2',
      '/accounts//1/orders/2',
      '//accounts/1/orders/2/',
      '/accounts;v=1/1/orders/2',
    ]) {
      assert.ok(t.match(path, 'restrict'), path);
    }
    assert.deepEqual(t.match('/accounts/1;jsessionid=x/orders/2', 'restrict'), {
      accountId: '1',
      orderId: '2',
    });
  });

  test('open templates', () => {
    const open = compilePathTemplate('/admin/**');
    assert.ok(open.open);
    assert.ok(open.match('/admin', 'grant'));
    assert.ok(open.match('/admin/a/b', 'grant'));
    assert.equal(open.match('/administrator', 'grant'), undefined);
    assert.ok(open.match('/Admin/x', 'restrict'));
  });

  test('same shape ignores parameter names', () => {
    assert.ok(t.sameShape('/accounts/{id}/orders/{n}'));
    assert.ok(!t.sameShape('/accounts/{id}'));
  });

  test('malformed templates are refused', () => {
    for (const bad of ['accounts', '/a/**/b', '/a/{x}/{x}', '/a//b', '/a/b*']) {
      assert.throws(() => compilePathTemplate(bad), TypeError, bad);
    }
  });
});

describe('selectors', () => {
  test('kinds', () => {
    assert.equal(parseSelector('*').kind, 'all');
    assert.equal(parseSelector('getAccount').kind, 'operation');
    assert.equal(parseSelector('GET /a/{b}').kind, 'route');
    for (const bad of ['get /a', 'HEAD /a', 'GET a', 'not an id!'])
      assert.throws(() => parseSelector(bad), TypeError, bad);
  });

  test('specific selectors name one operation', () => {
    assert.equal(parseSelector('DELETE /users/{id}').specific, true);
    assert.equal(parseSelector('deleteUser').specific, true);
    assert.equal(parseSelector('* /users/{id}').specific, false);
    assert.equal(parseSelector('DELETE /users/**').specific, false);
  });

  test('operationId and OpenAPI template matching', () => {
    const byId = parseSelector('getAccount');
    assert.ok(byId.matches(req('GET', '/x', { operationId: 'getAccount' }), 'grant'));
    assert.ok(!byId.matches(req('GET', '/x', { operationId: 'getaccount' }), 'grant'));
    const route = parseSelector('GET /accounts/{id}');
    assert.ok(route.matches(req('GET', '/accounts/1'), 'grant'));
    assert.ok(
      !route.matches(req('GET', '/v1/accounts/1', { pathTemplate: '/accounts/{accountId}' }), 'grant'),
      'route selectors name request paths, not document paths',
    );
    assert.ok(!route.matches(req('POST', '/accounts/1'), 'grant'));
  });
});

describe('mixed segments', () => {
  test('{name}.{ext}', () => {
    const t = compilePathTemplate('/files/{name}.{ext}');
    assert.deepEqual(t.match('/files/report.pdf', 'grant'), { name: 'report', ext: 'pdf' });
    assert.equal(t.match('/files/report', 'grant'), undefined);
    assert.deepEqual(t.match('/FILES/a.b.c', 'restrict'), { name: 'a', ext: 'b.c' });
  });
});
