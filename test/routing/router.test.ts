import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Router, type RouteLookup } from '../../src/routing/router.js';

const value = (l: RouteLookup<string>): string =>
  l.kind === 'match' ? l.value : l.kind === 'method_not_allowed' ? `405 ${l.allow.join(',')}` : '404';

describe('router', () => {
  const router = new Router<string>([
    { value: 'any-prefix', pathPrefix: '/api' },
    { value: 'any-exact-get', path: '/api/items', methods: ['GET'] },
    { value: 'any-template', path: '/api/items/{id}', methods: ['GET', 'DELETE'] },
    { value: 'any-literal-beats-param', path: '/api/items/new', methods: ['GET'] },
    { value: 'exact-host', hosts: ['shop.example.com'], pathPrefix: '/' },
    { value: 'wildcard', hosts: ['*.example.com'], path: '/w', methods: ['POST'] },
    { value: 'post-only', path: '/submit', methods: ['POST'] },
    { value: 'put-only', hosts: ['*.example.com'], path: '/submit', methods: ['PUT'] },
  ]);

  test('precedence: exact path, then templates (literals first), then prefixes', () => {
    assert.equal(value(router.lookup('x', 'GET', '/api/items')), 'any-exact-get');
    assert.equal(
      value(router.lookup('x', 'GET', '/api/items/')),
      'any-exact-get',
      'one trailing slash ignored',
    );
    assert.equal(value(router.lookup('x', 'GET', '/api/items/new')), 'any-literal-beats-param');
    assert.equal(value(router.lookup('x', 'GET', '/api/items/42')), 'any-template');
    assert.equal(
      value(router.lookup('x', 'POST', '/api/items')),
      'any-prefix',
      'another method falls to the prefix',
    );
    assert.equal(value(router.lookup('x', 'GET', '/api/other/deep')), 'any-prefix');
    assert.equal(value(router.lookup('x', 'GET', '/api')), 'any-prefix');
    assert.equal(value(router.lookup('x', 'GET', '/apix')), '404', 'a prefix matches whole segments only');
  });

  test('params of a template match; HEAD goes where GET does', () => {
    const found = router.lookup('x', 'HEAD', '/api/items/42');
    assert.equal(found.kind, 'match');
    assert.deepEqual(found.kind === 'match' && { ...found.params }, { id: '42' });
  });

  test('hosts: exact host first, then the wildcard, then routes without hosts', () => {
    assert.equal(value(router.lookup('shop.example.com', 'GET', '/api/items')), 'exact-host');
    assert.equal(value(router.lookup('a.example.com', 'POST', '/w')), 'wildcard');
    assert.equal(value(router.lookup('a.example.com', 'GET', '/api/items')), 'any-exact-get');
    assert.equal(
      value(router.lookup('example.com', 'POST', '/w')),
      '404',
      'the bare domain is not a subdomain',
    );
  });

  test('405 lists the methods of every host table the path matched in', () => {
    assert.equal(value(router.lookup('a.example.com', 'GET', '/submit')), '405 POST,PUT');
    assert.equal(value(router.lookup('other', 'GET', '/submit')), '405 POST');
    assert.equal(value(router.lookup('other', 'POST', '/submit')), 'post-only');
  });

  test('answers without params are shared and frozen', () => {
    const a = router.lookup('x', 'GET', '/api/items');
    const b = router.lookup('x', 'GET', '/api/items');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.throws(() => {
      (a as { params: Record<string, string> }).params.injected = 'x';
    }, TypeError);
  });

  test('case-insensitive routing folds the path but keeps param values as sent', () => {
    const folded = new Router<string>(
      [
        { value: 't', path: '/Users/{name}' },
        { value: 'p', pathPrefix: '/Docs' },
      ],
      {
        caseInsensitive: true,
      },
    );
    const found = folded.lookup('x', 'GET', '/USERS/Ada');
    assert.deepEqual(found.kind === 'match' && { ...found.params }, { name: 'Ada' });
    assert.equal(value(folded.lookup('x', 'GET', '/docs/a')), 'p');
  });
});
