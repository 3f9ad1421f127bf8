import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { codePointLength, createAjv } from '../../src/openapi/ajv.js';

const require = createRequire(import.meta.url);
const ajvCount = (require('ajv/dist/runtime/ucs2length') as { default: (s: string) => number }).default;

describe('string lengths in code points', () => {
  test("codePointLength agrees with Ajv's own count, surrogates included", () => {
    const units = ['a', 'é', '\u00ff', '\u4e2d', '\ud83d', '\ude00', '\ud800', '\udfff', '😀'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = next() % 12;
      for (let j = 0; j < n; j++) s += units[next() % units.length];
      assert.equal(codePointLength(s), ajvCount(s), JSON.stringify(s));
    }
  });

  test('maxLength and minLength count an emoji as one character, and still refuse', () => {
    const validate = createAjv({ coerceTypes: false }).compile({
      type: 'string',
      minLength: 2,
      maxLength: 3,
    });
    assert.equal(validate('😀😀😀'), true, 'three code points, six UTF-16 units');
    assert.equal(validate('😀😀😀😀'), false);
    assert.match(String(validate.errors?.[0]?.message), /must NOT have more than 3 characters/);
    assert.equal(validate('😀'), false, 'one code point is fewer than two');
    assert.match(String(validate.errors?.[0]?.message), /must NOT have fewer than 2 characters/);
    assert.equal(validate('x'.repeat(4)), false);
    assert.equal(validate('\ud800\ud800'), true, 'two lone high surrogates are two characters');
  });
});
