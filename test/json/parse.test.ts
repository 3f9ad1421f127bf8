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

describe('parseJson decodes bytes strictly, on the ASCII fast path and off it', () => {
  const bytes = (...values: number[]) => Buffer.from(values);

  test('ASCII, non-ASCII and BOM-prefixed bodies parse as their text does', () => {
    for (const text of [
      '{"a":"plain ascii","b":[1,2.5,null,true]}',
      '{"é":"café","emoji":"😀","sep":"\u2028","nul":"\\u0000"}',
      '["' + 'x'.repeat(5000) + 'ü"]',
    ]) {
      const expected: unknown = JSON.parse(text);
      assert.deepEqual(parseJson(Buffer.from(text), DEFAULT_JSON_LIMITS), expected);
      assert.deepEqual(parseJson(new Uint8Array(Buffer.from(text)), DEFAULT_JSON_LIMITS), expected);
    }
    // the fatal decoder drops a leading byte-order mark, as it always did for bodies
    assert.deepEqual(parseJson(Buffer.from('\ufeff{"a":1}'), DEFAULT_JSON_LIMITS), { a: 1 });
  });

  test('every kind of invalid UTF-8 is json_encoding, wherever it sits', () => {
    const invalid: [string, Buffer][] = [
      ['lone continuation byte', bytes(0x22, 0x80, 0x22)],
      ['latin1 é', Buffer.from('"caf\xe9"', 'latin1')],
      ['overlong slash', bytes(0x22, 0xc0, 0xaf, 0x22)],
      ['UTF-16 surrogate', bytes(0x22, 0xed, 0xa0, 0x80, 0x22)],
      ['beyond U+10FFFF', bytes(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22)],
      ['0xFF', bytes(0x22, 0xff, 0x22)],
      ['truncated at the end', Buffer.concat([Buffer.from('"' + 'a'.repeat(3000)), bytes(0xe2, 0x82)])],
      [
        'after a long ASCII prefix',
        Buffer.concat([Buffer.from('{"a":"' + 'a'.repeat(3000)), bytes(0xc3, 0x28), Buffer.from('"}')]),
      ],
    ];
    for (const [name, buffer] of invalid) {
      assert.throws(
        () => parseJson(buffer, DEFAULT_JSON_LIMITS),
        (error: unknown) => error instanceof JsonRejectedError && error.reason === 'json_encoding',
        name,
      );
      assert.throws(
        () => parseJson(new Uint8Array(buffer), DEFAULT_JSON_LIMITS),
        (error: unknown) => error instanceof JsonRejectedError && error.reason === 'json_encoding',
        name,
      );
    }
  });

  test('limits apply to ASCII bodies read from bytes', () => {
    rejected(Buffer.from('{"a":1,"a":2}'), 'json_duplicate_key', '/a');
    rejected(Buffer.from('{"x":{"__proto__":{}}}'), 'json_forbidden_key', '/x/__proto__');
    rejected(Buffer.from('[[[[[1]]]]]'), 'json_depth');
  });
});

describe('parseJson finds duplicate and forbidden keys however the text around them looks', () => {
  const wide: JsonLimits = { ...DEFAULT_JSON_LIMITS, maxObjectKeys: 100 };

  test('a duplicate hidden after a long string, escaped quotes and backslashes', () => {
    const long = 'x'.repeat(50_000);
    rejected(`{"a":"${long}","a":1}`, 'json_duplicate_key', '/a', wide);
    rejected(Buffer.from(`{"a":"${long}","b":"\\"},\\"a\\":\\\\","a":1}`), 'json_duplicate_key', '/a', wide);
    rejected(`{"a":"\\\\\\\\","b":"\\\\\\"","a":1}`, 'json_duplicate_key', '/a', wide);
    assert.deepEqual(parseJson(`{"a":"\\",\\"a\\":1","b":2}`, wide), { a: '","a":1', b: 2 });
  });

  test('short, long and escaped keys, in small and large objects', () => {
    const long = 'k'.repeat(40);
    for (const [text, pointer] of [
      [`{"${long}1":1,"${long}2":2,"${long}1":3}`, `/${long}1`],
      [`{"abcdefghijklmnop":1,"abcdefghijklmnoq":2,"abcdefghijklmnop":3}`, '/abcdefghijklmnop'],
      [`{"abcdefghijklmnopq":1,"abcdefghijklmnop":2,"abcdefghijklmnopq":3}`, '/abcdefghijklmnopq'],
      ['{"ab":1,"ba":2,"a\\u0062":3}', '/ab'],
      ['{"a\\u0062":1,"x":2,"ab":3}', '/ab'],
      ['{"ab":1,"\\/":2,"/":3}', '/~1'],
      [`{${Array.from({ length: 12 }, (_, i) => `"k${i}":${i}`).join(',')},"k3":0}`, '/k3'],
      [`{${Array.from({ length: 8 }, (_, i) => `"k${i}":${i}`).join(',')},"\\u006b5":0}`, '/k5'],
      [`{${Array.from({ length: 8 }, (_, i) => `"k${i}":${i}`).join(',')},"${long}":0,"k7":0}`, '/k7'],
    ] as const)
      rejected(text, 'json_duplicate_key', pointer, wide);
    const distinct = `{${Array.from({ length: 12 }, (_, i) => `"${'p'.repeat(15)}${i}":${i}`).join(',')}}`;
    assert.equal(Object.keys(parseJson(distinct, wide) as object).length, 12);
  });

  test('forbidden names are matched exactly, escaped or not', () => {
    rejected('{"a":1,"__proto__":2}', 'json_forbidden_key', '/__proto__');
    rejected('{"a":{"constructor":1}}', 'json_forbidden_key', '/a/constructor');
    rejected('{"\\u0070rototype":1}', 'json_forbidden_key', '/prototype');
    for (const key of ['__proto_x', 'prototypE', 'Constructor', 'constructo', 'unitPrice', 'giftMessage'])
      assert.deepEqual(parseJson(`{"${key}":1}`, DEFAULT_JSON_LIMITS), { [key]: 1 });
  });

  test('pointers name the escaped key decoded and long keys truncated', () => {
    const long = 'n'.repeat(70);
    rejected(`{"${long}":{"a":1,"a":2}}`, 'json_duplicate_key', `/${'n'.repeat(64)}…/a`, wide);
    rejected('{"a\\u002fb":[1,2,3,4]}', 'json_array_length', '/a~1b/3');
  });
});
