import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scanJson } from '../../src/json/scan.js';
import { DEFAULT_JSON_LIMITS } from '../../src/json/limits.js';

// A small deterministic PRNG so failures reproduce.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\\"',
  '\u2028',
  '\u0000',
  'é',
  '😀',
  '__proto__x',
  ' ',
];

function randomString(random: () => number): string {
  let out = '';
  const length = Math.floor(random() * 8);
  for (let i = 0; i < length; i++) {
    out +=
      random() < 0.4
        ? TRICKY[Math.floor(random() * TRICKY.length)]
        : String.fromCharCode(97 + Math.floor(random() * 26));
  }
  return out;
}

function randomValue(random: () => number, depth: number): unknown {
  const pick = random();
  if (depth > 4 || pick < 0.3) {
    const scalar = random();
    if (scalar < 0.25) return randomString(random);
    if (scalar < 0.5) return Math.floor(random() * 1e6) - 5e5;
    if (scalar < 0.65) return random() * 1e3;
    if (scalar < 0.8) return random() < 0.5;
    return null;
  }
  if (pick < 0.6)
    return Array.from({ length: Math.floor(random() * 5) }, () => randomValue(random, depth + 1));
  const out: Record<string, unknown> = {};
  const count = Math.floor(random() * 5);
  for (let i = 0; i < count; i++) out[`${randomString(random)}#${i}`] = randomValue(random, depth + 1);
  return out;
}

describe('scanJson agrees with JSON.parse on random documents', () => {
  test('valid documents without duplicates pass, in compact and pretty form', () => {
    const random = prng(1234);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(random, 0);
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
        assert.equal(scanJson(text, DEFAULT_JSON_LIMITS), undefined, text);
      }
    }
  });

  test('a duplicated member is always found, however its name is escaped', () => {
    const random = prng(99);
    for (let i = 0; i < 1000; i++) {
      const name = randomString(random) + 'k';
      const inner = randomValue(random, 2);
      const escaped = JSON.stringify(name).replace(/k"$/, '\\u006b"');
      const text = `{"a":${JSON.stringify(inner)},${JSON.stringify(name)}:1,"b":[${JSON.stringify(randomString(random))}],${escaped}:2}`;
      assert.equal(JSON.parse(text)[name], 2, 'the text is valid JSON with a duplicate');
      assert.equal(scanJson(text, DEFAULT_JSON_LIMITS)?.reason, 'json_duplicate_key', text);
    }
  });

  test('depth is measured on structure, not on brackets inside strings', () => {
    const inString = JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' });
    assert.equal(scanJson(inString, { ...DEFAULT_JSON_LIMITS, maxDepth: 2 }), undefined);
    const deep = JSON.stringify({ a: [[[1]]] });
    assert.equal(scanJson(deep, { ...DEFAULT_JSON_LIMITS, maxDepth: 3 })?.reason, 'json_depth');
    assert.equal(scanJson(deep, { ...DEFAULT_JSON_LIMITS, maxDepth: 4 }), undefined);
  });
});

describe('forbidden keys', () => {
  test('scanJson looks names up only at the lengths of the forbidden names (9 and 11)', async () => {
    const { FORBIDDEN_KEYS } = await import('../../src/json/scan.js');
    for (const key of FORBIDDEN_KEYS) assert.ok(key.length === 9 || key.length === 11, key);
    for (const key of FORBIDDEN_KEYS) {
      const violation = scanJson(`{"a":1,"${key}":{}}`, DEFAULT_JSON_LIMITS);
      assert.equal(violation?.reason, 'json_forbidden_key', key);
    }
    assert.equal(scanJson('{"__proto__\\u0000":1,"constructors":2}', DEFAULT_JSON_LIMITS), undefined);
  });
});
