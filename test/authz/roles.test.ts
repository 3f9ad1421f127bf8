import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileRoles, isGranted, type RoleProblem } from '../../src/authz/roles.js';
import { AuthzRequest } from '../../src/authz/request-view.js';

const fail = (problem: RoleProblem): never => {
  throw new Error(`${problem.pointer}: ${problem.message}`);
};
const req = (method: string, path: string, operationId?: string) =>
  new AuthzRequest(method, path, operationId);

describe('roles', () => {
  const roles = compileRoles(
    {
      admin: { inherits: ['editor'], permissions: ['*'] },
      editor: { inherits: ['viewer'], permissions: ['PUT /docs/{id}', 'deleteDoc'] },
      viewer: { permissions: ['GET /docs/{id}', 'GET /public/**'] },
      wide: { permissions: ['* /docs/**'] },
    },
    fail,
  );

  test('inheritance is flattened', () => {
    const editor = roles.get('editor');
    assert.ok(editor);
    assert.ok(editor.operationIds.has('deleteDoc'));
    assert.deepEqual(
      editor.routes.map((s) => s.text),
      ['PUT /docs/{id}', 'GET /docs/{id}', 'GET /public/**'],
    );
    assert.equal(roles.get('admin')?.all, true);
  });

  test('grants', () => {
    assert.equal(isGranted(roles, ['viewer'], req('GET', '/docs/1'), false), 'viewer:GET /docs/{id}');
    assert.equal(isGranted(roles, ['viewer'], req('PUT', '/docs/1'), false), undefined);
    assert.equal(
      isGranted(roles, ['editor'], req('DELETE', '/docs/1', 'deleteDoc'), true),
      'editor:deleteDoc',
    );
    assert.equal(
      isGranted(roles, ['nobody', 'viewer'], req('GET', '/public/a/b'), false),
      'viewer:GET /public/**',
    );
    assert.equal(isGranted(roles, [], req('GET', '/docs/1'), false), undefined);
    assert.equal(isGranted(roles, ['__proto__', 'constructor'], req('GET', '/docs/1'), false), undefined);
  });

  test('wildcards never grant privileged operations; "*" and exact names do', () => {
    assert.ok(isGranted(roles, ['wide'], req('DELETE', '/docs/1'), false));
    assert.equal(isGranted(roles, ['wide'], req('DELETE', '/docs/1'), true), undefined);
    assert.equal(isGranted(roles, ['viewer'], req('GET', '/public/x'), true), undefined);
    assert.ok(isGranted(roles, ['admin'], req('DELETE', '/docs/1'), true));
  });

  test('cycles and unknown parents are config errors', () => {
    assert.throws(
      () => compileRoles({ a: { inherits: ['b'] }, b: { inherits: ['a'] } }, fail),
      /cycle: a -> b -> a/,
    );
    assert.throws(
      () => compileRoles({ a: { inherits: ['ghost'] } }, fail),
      /\/a\/inherits\/0: .*unknown role "ghost"/,
    );
    assert.throws(() => compileRoles({ a: { permissions: ['get /x'] } }, fail), /\/a\/permissions\/0/);
  });
});
