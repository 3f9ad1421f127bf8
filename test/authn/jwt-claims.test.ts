import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileClaimMapping,
  identityFromClaims,
  readClaim,
  stringList,
} from '../../src/authn/jwt-claims.js';

describe('claim mapping', () => {
  test('paths read own properties only (no prototype walk)', () => {
    const claims = JSON.parse(
      '{"a":{"b":{"c":"deep"}},"__proto__":{"roles":["admin"]},"list":[1]}',
    ) as Record<string, unknown>;
    assert.equal(readClaim(claims, ['a', 'b', 'c']), 'deep');
    assert.equal(readClaim(claims, ['a', 'x', 'c']), undefined);
    assert.equal(readClaim(claims, ['constructor']), undefined);
    assert.equal(readClaim(claims, ['toString']), undefined);
    assert.equal(readClaim(claims, ['list', '0']), undefined, 'arrays are not walked');
    assert.equal(readClaim({ a: 'str' }, ['a', 'length']), undefined);
    const identity = identityFromClaims({ sub: 'x', ...claims }, compileClaimMapping({ roles: 'roles' }), {
      method: 'jwt',
    });
    assert.deepEqual(identity?.roles, [], 'a __proto__ member never becomes roles');
  });

  test('scope lists: space-separated strings or arrays; anything else is empty', () => {
    const table: [unknown, string[]][] = [
      ['read  write ', ['read', 'write']],
      [
        ['a', 'b', 7, null, ''],
        ['a', 'b'],
      ],
      [42, []],
      [{ scope: 'x' }, []],
      [undefined, []],
    ];
    for (const [value, expected] of table) assert.deepEqual(stringList(value), expected);
  });

  test('the first present scopes path wins; subject must be a non-empty string', () => {
    const mapping = compileClaimMapping({
      scopes: ['scope', 'scp'],
      tenant: 'org.id',
      attributes: { email: 'email' },
    });
    const identity = identityFromClaims({ sub: 's', scp: ['x'], org: { id: 't' }, email: 'e@x' }, mapping, {
      method: 'jwt',
      issuer: 'i',
    });
    assert.deepEqual(identity?.scopes, ['x']);
    assert.equal(identity?.tenant, 't');
    assert.deepEqual(identity?.attributes, { email: 'e@x' });
    assert.ok(Object.isFrozen(identity) && Object.isFrozen(identity?.scopes));
    for (const sub of ['', 42, ['a'], null, undefined]) {
      assert.equal(identityFromClaims({ sub }, mapping, { method: 'jwt' }), undefined);
    }
  });
});
