import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PathMatcher } from '../../src/openapi/path-matcher.js';

function matcher(...templates: string[]): PathMatcher<string> {
  const m = new PathMatcher<string>();
  for (const template of templates) m.add(template, template);
  return m;
}

describe('PathMatcher', () => {
  const m = matcher(
    '/pets',
    '/pets/{id}',
    '/pets/mine',
    '/pets/{id}/toys/{toyId}',
    '/files/{name}.{ext}',
    '/files/{name}',
    '/a/{x}/c',
    '/a/b/{y}',
    '/',
  );

  const table: [string, string | undefined, Record<string, string>?][] = [
    ['/pets', '/pets', {}],
    ['/pets/12', '/pets/{id}', { id: '12' }],
    ['/pets/mine', '/pets/mine', {}],
    ['/pets/12/toys/7', '/pets/{id}/toys/{toyId}', { id: '12', toyId: '7' }],
    ['/files/report.v2.png', '/files/{name}.{ext}', { name: 'report.v2', ext: 'png' }],
    ['/files/readme', '/files/{name}', { name: 'readme' }],
    ['/a/b/c', '/a/b/{y}', { y: 'c' }],
    ['/a/z/c', '/a/{x}/c', { x: 'z' }],
    ['/', '/', {}],
    ['/pets/%2F', '/pets/{id}', { id: '%2F' }],
    ['/pets/', undefined],
    ['/pets//toys/1', undefined],
    ['/pets/1/toys', undefined],
    ['/petsx', undefined],
    ['pets', undefined],
    ['', undefined],
  ];
  for (const [path, template, params] of table) {
    test(`${path || '(empty)'} -> ${template ?? 'no match'}`, () => {
      const found = m.match(path);
      assert.equal(found?.template, template);
      if (params !== undefined) assert.deepEqual(found?.params, params);
    });
  }

  test('literal segments win even when added after templates', () => {
    const late = matcher('/users/{id}', '/users/me');
    assert.equal(late.match('/users/me')?.template, '/users/me');
    assert.equal(late.match('/users/you')?.template, '/users/{id}');
  });

  test('backtracks from a literal dead end to a parameter', () => {
    const m2 = matcher('/a/b/c', '/a/{x}/d');
    assert.equal(m2.match('/a/b/d')?.template, '/a/{x}/d');
  });

  test('equivalent templates are refused', () => {
    assert.throws(() => matcher('/pets/{id}', '/pets/{petId}'), /equivalent/);
  });

  test('hundreds of templates match by segment, not by scanning', () => {
    const big = new PathMatcher<number>();
    for (let i = 0; i < 500; i++) big.add(`/r${i}/{id}/items/{item}`, i);
    assert.equal(big.match('/r499/1/items/2')?.value, 499);
    assert.equal(big.size, 500);
  });
});
