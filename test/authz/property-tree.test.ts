import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compilePropertyList,
  filterValue,
  findDisallowed,
  mergeTrees,
} from '../../src/authz/property-tree.js';

describe('property allow-lists', () => {
  const user = compilePropertyList(['name', 'email', 'address.city', 'orders.sku']);

  test('write checks', () => {
    assert.equal(findDisallowed({ name: 'a', email: 'b' }, user), undefined);
    assert.equal(findDisallowed({ name: 'a', isAdmin: true }, user), 'isAdmin');
    assert.equal(findDisallowed({ address: { city: 'x', street: 'y' } }, user), 'address.street');
    assert.equal(findDisallowed({ address: 'flat' }, user), 'address');
    assert.equal(findDisallowed({ orders: [{ sku: 'a' }, { sku: 'b', price: 0 }] }, user), 'orders.price');
    assert.equal(findDisallowed([{ name: 'a' }, { balance: 1 }], user), 'balance');
    assert.equal(findDisallowed(JSON.parse('{"__proto__": {"isAdmin": true}}'), user), '__proto__');
    assert.equal(findDisallowed({ constructor: { prototype: {} } }, user), 'constructor');
  });

  test('read filtering is recursive and never copies prototype keys', () => {
    const filtered = filterValue(
      [
        {
          name: 'a',
          secret: 1,
          address: { city: 'c', street: 's' },
          orders: [{ sku: 'x', cost: 1 }],
          __proto__x: 1,
        },
      ],
      user,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(filtered)), [
      { name: 'a', address: { city: 'c' }, orders: [{ sku: 'x' }] },
    ]);
    const proto = filterValue(
      JSON.parse('{"__proto__": {"polluted": true}, "name": "a"}'),
      compilePropertyList(['__proto__', 'name']),
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(JSON.stringify(proto), '{"__proto__":{"polluted":true},"name":"a"}');
  });

  test('merging roles unions their lists', () => {
    const merged = mergeTrees([compilePropertyList(['a.x']), compilePropertyList(['a.y', 'b'])]);
    assert.equal(findDisallowed({ a: { x: 1, y: 2 }, b: 3 }, merged), undefined);
    assert.equal(findDisallowed({ c: 1 }, merged), 'c');
    assert.equal(findDisallowed({ anything: 1 }, mergeTrees([merged, compilePropertyList('*')])), undefined);
  });

  test('malformed paths are refused', () => {
    assert.throws(() => compilePropertyList(['a..b']), TypeError);
  });
});
