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

/** Whether some object of a valid JSON text repeats a member name (decoded): a plain parser. */
function hasDuplicateKey(text: string): boolean {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): boolean => {
    space();
    const c = text[i];
    if (c === '"') return (void string(), false);
    if (c !== '{' && c !== '[') {
      while (i < text.length && !',]} \t\n\r'.includes(text[i] as string)) i++;
      return false;
    }
    i++;
    space();
    if (text[i] === (c === '{' ? '}' : ']')) return (i++, false);
    const seen = new Set<string>();
    for (;;) {
      if (c === '{') {
        space();
        const key = string();
        if (seen.has(key)) return true;
        seen.add(key);
        space();
        i++; // :
      }
      if (value()) return true;
      space();
      if (text[i++] !== ',') return false;
    }
  };
  return value();
}

describe('duplicate keys: scanJson agrees with a plain parser on random objects', () => {
  test('short, 16/17-character, long and escaped names in objects of up to 14 members', () => {
    const random = prng(2024);
    const names = [
      'a',
      'b',
      'ab',
      'ba',
      'é',
      '😀',
      'k/1',
      'x'.repeat(15) + 'y',
      'x'.repeat(16),
      'x'.repeat(16) + 'y',
    ];
    for (let n = 0; n < 12; n++) names.push(`k${n}`, 'long-'.repeat(8) + n);
    const name = (): string => {
      const plain = names[Math.floor(random() * names.length)] as string;
      const text = JSON.stringify(plain);
      if (random() < 0.8) return text;
      // the same name with one character escaped
      const at = 1 + Math.floor(random() * (text.length - 2));
      const code = text.charCodeAt(at);
      if (code === 92 || (code >= 0xd800 && code <= 0xdfff)) return text;
      return `${text.slice(0, at)}\\u${code.toString(16).padStart(4, '0')}${text.slice(at + 1)}`;
    };
    const object = (depth: number): string => {
      const members = Math.floor(random() * 15);
      const parts: string[] = [];
      for (let m = 0; m < members; m++) {
        const inner = depth < 2 && random() < 0.2 ? object(depth + 1) : JSON.stringify(randomString(random));
        parts.push(`${name()}:${inner}`);
      }
      return `{${parts.join(random() < 0.5 ? ',' : ', ')}}`;
    };
    let duplicates = 0;
    for (let i = 0; i < 3000; i++) {
      const text = object(0);
      const expected = hasDuplicateKey(text);
      if (expected) duplicates++;
      const reason = scanJson(text, DEFAULT_JSON_LIMITS)?.reason;
      assert.equal(reason, expected ? 'json_duplicate_key' : undefined, text);
    }
    assert.ok(duplicates > 300 && duplicates < 2700, `both outcomes are exercised (${duplicates})`);
  });
});
