import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAjv } from '../../src/openapi/ajv.js';
import { SchemaConverter, type Dialect, type Direction } from '../../src/openapi/schema-convert.js';

let counter = 0;
function compile(schema: unknown, dialect: Dialect, direction: Direction = 'request', strict = true) {
  const converter = new SchemaConverter({ dialect, direction, strict, defsId: `urn:test:${++counter}` });
  const converted = converter.convert(schema);
  const ajv = createAjv({ coerceTypes: false });
  if (Object.keys(converter.defs).length > 0) ajv.addSchema({ $id: converter.defsId, $defs: converter.defs });
  return ajv.compile(converted as object);
}

describe('OpenAPI 3.0 semantics', () => {
  test('nullable adds null to type and enum', () => {
    const v = compile({ type: 'string', enum: ['a', 'b'], nullable: true }, '3.0');
    assert.equal(v(null), true);
    assert.equal(v('a'), true);
    assert.equal(v('c'), false);
  });

  test('without nullable, null is refused', () => {
    const v = compile({ type: 'string' }, '3.0');
    assert.equal(v(null), false);
  });

  test('nullable without a type has no effect (3.0.3)', () => {
    const v = compile({ nullable: true, allOf: [{ type: 'string' }] }, '3.0');
    assert.equal(v(null), false);
  });

  test('boolean exclusiveMinimum/exclusiveMaximum become numeric bounds', () => {
    const v = compile(
      { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true },
      '3.0',
    );
    assert.equal(v(0), false);
    assert.equal(v(10), false);
    assert.equal(v(5), true);
    const inclusive = compile({ type: 'number', minimum: 0, exclusiveMinimum: false }, '3.0');
    assert.equal(inclusive(0), true);
  });
});

describe('OpenAPI 3.1 semantics', () => {
  test('type arrays with null', () => {
    const v = compile({ type: ['string', 'null'] }, '3.1');
    assert.equal(v(null), true);
    assert.equal(v(1), false);
  });

  test('numeric exclusiveMinimum', () => {
    const v = compile({ type: 'number', exclusiveMinimum: 0 }, '3.1');
    assert.equal(v(0), false);
    assert.equal(v(0.1), true);
  });

  test('nullable is not a 3.1 keyword', () => {
    const v = compile({ type: 'string', nullable: true }, '3.1');
    assert.equal(v(null), false);
  });
});

describe('strict mode (mass assignment)', () => {
  const user = {
    type: 'object',
    required: ['name'],
    properties: {
      id: { type: 'integer', readOnly: true },
      name: { type: 'string' },
      password: { type: 'string', writeOnly: true },
    },
  };

  test('undeclared properties are refused at every level', () => {
    const v = compile({ type: 'object', properties: { user } }, '3.0');
    assert.equal(v({ user: { name: 'a' } }), true);
    assert.equal(v({ user: { name: 'a', isAdmin: true } }), false);
    assert.equal(v({ user: { name: 'a' }, role: 'admin' }), false);
  });

  test('allOf composition: properties from every branch are declared', () => {
    const v = compile(
      { allOf: [user, { type: 'object', properties: { nickname: { type: 'string' } } }] },
      '3.0',
    );
    assert.equal(v({ name: 'a', nickname: 'b' }), true);
    assert.equal(v({ name: 'a', nickname: 'b', role: 'admin' }), false);
  });

  test('oneOf: only the matching branch declares', () => {
    const cat = { type: 'object', required: ['meow'], properties: { meow: { type: 'boolean' } } };
    const dog = { type: 'object', required: ['bark'], properties: { bark: { type: 'boolean' } } };
    const v = compile({ oneOf: [cat, dog] }, '3.1');
    assert.equal(v({ meow: true }), true);
    assert.equal(v({ meow: true, admin: true }), false);
  });

  test('explicit additionalProperties is respected', () => {
    const open = compile(
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true },
      '3.0',
    );
    assert.equal(open({ a: 'x', b: 1 }), true);
    const map = compile({ type: 'object', additionalProperties: { type: 'integer' } }, '3.0');
    assert.equal(map({ a: 1 }), true);
    assert.equal(map({ a: 'x' }), false);
  });

  test('type: object without properties stays free-form', () => {
    const v = compile({ type: 'object', properties: { meta: { type: 'object' } } }, '3.0');
    assert.equal(v({ meta: { anything: [1] } }), true);
  });

  test('lenient mode accepts undeclared properties', () => {
    const v = compile(user, '3.0', 'request', false);
    assert.equal(v({ name: 'a', isAdmin: true }), true);
  });

  test('readOnly members are refused in requests and not required there', () => {
    const v = compile({ ...user, required: ['id', 'name'] }, '3.0', 'request');
    assert.equal(v({ name: 'a' }), true);
    assert.equal(v({ name: 'a', id: 1 }), false);
  });

  test('writeOnly members are refused in responses', () => {
    const v = compile(user, '3.0', 'response');
    assert.equal(v({ id: 1, name: 'a' }), true);
    assert.equal(v({ id: 1, name: 'a', password: 'x' }), false);
  });

  test('recursive schemas compile and stay strict at every depth', () => {
    const node: Record<string, unknown> = {
      type: 'object',
      required: ['label'],
      properties: { label: { type: 'string' } },
    };
    (node.properties as Record<string, unknown>).children = { type: 'array', items: node };
    const v = compile(node, '3.0');
    assert.equal(v({ label: 'a', children: [{ label: 'b', children: [{ label: 'c' }] }] }), true);
    assert.equal(v({ label: 'a', children: [{ label: 'b', children: [{ label: 'c', x: 1 }] }] }), false);
    assert.equal(v({ label: 'a', children: [{ children: [] }] }), false);
  });
});
