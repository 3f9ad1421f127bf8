import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonRejectedError, parseJson } from '../../src/json/parse.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../../src/json/limits.js';

const limits: JsonLimits = {
  ...DEFAULT_JSON_LIMITS,
  maxDepth: 4,
  maxArrayLength: 3,
  maxStringLength: 16,
  maxObjectKeys: 4,
};

function rejected(
  text: string | Buffer,
  reason: string,
  pointer?: string,
  custom: JsonLimits = limits,
): void {
  assert.throws(
    () => parseJson(text, custom),
    (error: unknown) => {
      assert.ok(error instanceof JsonRejectedError, String(error));
      assert.equal(error.reason, reason, `${String(text)}: ${error.message}`);
      if (pointer !== undefined) assert.equal(error.pointer, pointer);
      return true;
    },
  );
}

describe('parseJson accepts ordinary documents', () => {
  for (const [text, value] of [
    ['{"a":1,"b":[1,2,3],"c":{"d":null}}', { a: 1, b: [1, 2, 3], c: { d: null } }],
    ['[]', []],
    ['[ ]', []],
    ['{}', {}],
    ['"x"', 'x'],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['0.1234567890123456', 0.1234567890123456],
    ['{"a\\"b":"c\\\\","d":"\\"}"}', { 'a"b': 'c\\', d: '"}' }],
    ['{"k":"a,b,c,d,e"}', { k: 'a,b,c,d,e' }],
    ['[[1],[2],[3]]', [[1], [2], [3]]],
    ['{"proto":1,"constructorX":2}', { proto: 1, constructorX: 2 }],
    ['[1e3, 2.5E-3]', [1000, 0.0025]],
  ] as const) {
    test(text, () => assert.deepEqual(parseJson(text, limits), value));
  }
});

describe('parseJson refuses hostile documents', () => {
  const table: [string, string, string?][] = [
    ['{"a":1,"a":2}', 'json_duplicate_key', '/a'],
    ['{"a":1,"b":{"x":1,"x":2}}', 'json_duplicate_key', '/b/x'],
    ['{"a":1,"\\u0061":2}', 'json_duplicate_key'],
    ['[{"a":1},{"a":1,"a":1}]', 'json_duplicate_key', '/1/a'],
    ['{"__proto__":{"isAdmin":true}}', 'json_forbidden_key', '/__proto__'],
    ['{"a":{"constructor":{"prototype":{"x":1}}}}', 'json_forbidden_key', '/a/constructor'],
    ['{"\\u005f_proto__":{}}', 'json_forbidden_key'],
    ['{"prototype":1}', 'json_forbidden_key'],
    ['[[[[[1]]]]]', 'json_depth'],
    ['{"a":{"b":{"c":{"d":{}}}}}', 'json_depth', '/a/b/c/d'],
    ['[1,2,3,4]', 'json_array_length', '/3'],
    ['{"a":[1,2,[1,2,3,4]]}', 'json_array_length'],
    ['"01234567890123456"', 'json_string_length'],
    ['{"01234567890123456":1}', 'json_string_length'],
    ['{"a":1,"b":2,"c":3,"d":4,"e":5}', 'json_object_keys'],
    ['9007199254740993', 'json_unsafe_number'],
    ['{"id":-123456789012345678901}', 'json_unsafe_number', '/id'],
    ['1e400', 'json_unsafe_number'],
    ['{"a":1,}', 'json_syntax'],
    ['{"a":NaN}', 'json_syntax'],
    ["{'a':1}", 'json_syntax'],
    ['\ufeff{}', 'json_syntax'],
    ['{"a":"unterminated', 'json_syntax'],
    ['', 'json_syntax'],
  ];
  for (const [text, reason, pointer] of table)
    test(`${text.slice(0, 40)} -> ${reason}`, () => rejected(text, reason, pointer));

  test('invalid UTF-8 is refused', () =>
    rejected(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), 'json_encoding'));

  test('deep nesting bomb is refused before JSON.parse recursion', () => {
    rejected('['.repeat(100_000) + ']'.repeat(100_000), 'json_depth', undefined, DEFAULT_JSON_LIMITS);
  });

  test('huge arrays are refused', () => {
    rejected(`[${'0,'.repeat(20_000)}0]`, 'json_array_length', undefined, DEFAULT_JSON_LIMITS);
  });

  test('error messages do not echo the input', () => {
    try {
      parseJson('{"secret-looking-input": tru}', DEFAULT_JSON_LIMITS);
      assert.fail('expected a rejection');
    } catch (error) {
      assert.ok(error instanceof JsonRejectedError);
      assert.doesNotMatch(error.message, /secret-looking-input/);
    }
  });

  test('unsafe numbers may be allowed explicitly', () => {
    assert.equal(parseJson('9007199254740993', { ...limits, unsafeNumbers: 'allow' }), 9007199254740992);
  });

  test('many keys in many objects stay linear (duplicate detection per object)', () => {
    const objects = Array.from({ length: 2000 }, (_, i) => `{"k${i}":1,"v":2,"w":3}`).join(',');
    const value = parseJson(`[${objects}]`, { ...DEFAULT_JSON_LIMITS, maxArrayLength: 5000 }) as unknown[];
    assert.equal(value.length, 2000);
  });
});
