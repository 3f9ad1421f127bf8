import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileIdentityHeaders } from '../../src/authn/identity-headers.js';

describe('identity headers', () => {
  const identity = {
    consumerId: 'c-1',
    subject: 'shop\r\nx-admin: yes',
    method: 'api_key',
    roles: ['a', 'b'],
    scopes: [],
    tenant: 'tené',
    attributes: { plan: 'gold', nested: { a: 1 } },
  };

  test('maps fields, joins lists, omits absent values, encodes unsafe characters', () => {
    const writer = compileIdentityHeaders({
      'X-Consumer-Id': 'consumerId',
      'x-consumer-subject': 'subject',
      'x-consumer-roles': 'roles',
      'x-consumer-scopes': 'scopes',
      'x-consumer-tenant': 'tenant',
      'x-consumer-issuer': 'issuer',
      'x-plan': 'attributes.plan',
      'x-nested': 'attributes.nested',
      'x-proto': 'attributes.__proto__',
    });
    assert.deepEqual(writer.names, [
      'x-consumer-id',
      'x-consumer-subject',
      'x-consumer-roles',
      'x-consumer-scopes',
      'x-consumer-tenant',
      'x-consumer-issuer',
      'x-plan',
      'x-nested',
      'x-proto',
    ]);
    assert.deepEqual(writer.headersFor(identity), {
      'x-consumer-id': 'c-1',
      'x-consumer-subject': 'shop%0D%0Ax-admin: yes',
      'x-consumer-roles': 'a,b',
      'x-consumer-tenant': 'ten%C3%A9',
      'x-plan': 'gold',
      'x-nested': '{"a":1}',
    });
  });

  test('valuesFor: the same values as headersFor, cached only for frozen identities', () => {
    const writer = compileIdentityHeaders({ 'x-consumer-id': 'consumerId', 'x-plan': 'attributes.plan' });
    const mutable = { ...identity, attributes: { ...identity.attributes } };
    assert.deepEqual(writer.valuesFor(mutable), ['c-1', 'gold']);
    mutable.attributes.plan = 'silver';
    assert.deepEqual(writer.valuesFor(mutable), ['c-1', 'silver'], 'not cached: the identity may change');
    const frozen = Object.freeze({
      ...identity,
      roles: Object.freeze([...identity.roles]),
      scopes: Object.freeze([]),
      attributes: Object.freeze({ plan: 'gold' }),
    });
    const first = writer.valuesFor(frozen);
    assert.deepEqual(first, ['c-1', 'gold']);
    assert.equal(writer.valuesFor(frozen), first, 'computed once');
    const { consumerId: _, ...anonymous } = frozen;
    assert.deepEqual(writer.valuesFor(anonymous), [undefined, 'gold']);
  });

  test('unknown fields are refused', () => {
    assert.throws(() => compileIdentityHeaders({ 'x-a': 'password' }), TypeError);
  });
});
