import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaConverter } from '../../src/openapi/schema-convert.js';
import { stripUndeclared } from '../../src/openapi/strip.js';

let counter = 0;
function strip(schema: unknown, value: unknown): { value: unknown; removed: number } {
  const converter = new SchemaConverter({
    dialect: '3.0',
    direction: 'response',
    strict: true,
    defsId: `urn:strip:${++counter}`,
  });
  const converted = converter.convert(schema);
  const removed = stripUndeclared(value, converted, (ref) => converter.resolve(ref));
  return { value, removed };
}

const pet = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    password: { type: 'string', writeOnly: true },
    owner: { type: 'object', properties: { name: { type: 'string' } } },
    tags: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' } } } },
    meta: { type: 'object' },
    labels: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { v: { type: 'string' } } },
    },
  },
};

describe('stripUndeclared', () => {
  test('removes undeclared and write-only members, nested, in arrays and maps', () => {
    const { value, removed } = strip(pet, {
      id: 1,
      name: 'rex',
      password: 'hunter2',
      ssn: '078-05-1120',
      owner: { name: 'ann', email: 'ann@example.com' },
      tags: [{ label: 'a', internal: true }, { label: 'b' }],
      meta: { free: { form: true } },
      labels: { x: { v: '1', secret: 's' } },
    });
    assert.deepEqual(value, {
      id: 1,
      name: 'rex',
      owner: { name: 'ann' },
      tags: [{ label: 'a' }, { label: 'b' }],
      meta: { free: { form: true } },
      labels: { x: { v: '1' } },
    });
    assert.equal(removed, 5);
  });

  test('arrays at the root', () => {
    const { value } = strip({ type: 'array', items: pet }, [
      { id: 1, x: 1 },
      { id: 2, y: 2 },
    ]);
    assert.deepEqual(value, [{ id: 1 }, { id: 2 }]);
  });

  test('allOf and oneOf branches are united', () => {
    const schema = {
      allOf: [
        { type: 'object', properties: { id: { type: 'integer' } } },
        {
          oneOf: [
            { type: 'object', properties: { a: { type: 'string' } } },
            { type: 'object', properties: { b: { type: 'string' } } },
          ],
        },
      ],
    };
    const { value } = strip(schema, { id: 1, a: 'x', b: 'y', c: 'z' });
    assert.deepEqual(value, { id: 1, a: 'x', b: 'y' });
  });

  test('explicit additionalProperties: true keeps extras; patternProperties declare by name', () => {
    const { value } = strip(
      {
        type: 'object',
        properties: { a: { type: 'string' } },
        patternProperties: { '^x-': { type: 'string' } },
      },
      { a: '1', 'x-trace': '2', b: '3' },
    );
    assert.deepEqual(value, { a: '1', 'x-trace': '2' });
    const open = strip(
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true },
      { a: '1', b: '2' },
    );
    assert.deepEqual(open.value, { a: '1', b: '2' });
  });

  test('recursive schemas strip at every depth', () => {
    const node: Record<string, unknown> = { type: 'object', properties: { label: { type: 'string' } } };
    (node.properties as Record<string, unknown>).children = { type: 'array', items: node };
    const { value } = strip(node, {
      label: 'a',
      x: 1,
      children: [{ label: 'b', y: 2, children: [{ label: 'c', z: 3 }] }],
    });
    assert.deepEqual(value, { label: 'a', children: [{ label: 'b', children: [{ label: 'c' }] }] });
  });

  test('free-form schemas keep everything', () => {
    const { value, removed } = strip({}, { anything: { goes: 1 } });
    assert.deepEqual(value, { anything: { goes: 1 } });
    assert.equal(removed, 0);
  });
});
