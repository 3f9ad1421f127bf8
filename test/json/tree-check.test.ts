import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonRejectedError, parseJson } from '../../src/json/parse.js';
import { FORBIDDEN_KEYS, scanJson } from '../../src/json/scan.js';
import { withinLimits } from '../../src/json/tree-check.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../../src/json/limits.js';

// parseJson checks a backslash-free text after parsing it (withinLimits) and scans its characters
// only when that check cannot vouch for it. These tests hold it to the plain order, scan then
// parse, on documents built to break each limit by a little, or to just keep it.

type Limits = Omit<JsonLimits, 'maxBodyBytes' | 'multipart'>;

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The reference: the character scan first, then JSON.parse. */
function scanThenParse(
  text: string,
  limits: Limits,
): { value: unknown } | { reason: string; pointer: string } {
  const problem = scanJson(text, limits);
  if (problem !== undefined) return { reason: problem.reason, pointer: problem.pointer };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { reason: 'json_syntax', pointer: '' };
  }
}

function viaParseJson(
  text: string,
  limits: Limits,
): { value: unknown } | { reason: string; pointer: string } {
  try {
    return { value: parseJson(text, limits) };
  } catch (error) {
    assert.ok(error instanceof JsonRejectedError);
    return { reason: error.reason, pointer: error.pointer };
  }
}

const NAMES = [
  'a',
  'b',
  'a:b',
  ':',
  'k:1:2',
  '__proto__',
  'constructor',
  'prototype',
  'protot',
  'x'.repeat(9),
];
const STRINGS = ['', 'plain', 'a:b', '::', 'http://h:1/p', '[{', '}]', ',', 'é:ü', 'x'.repeat(12)];
const NUMBERS = [
  '0',
  '-1',
  '1.5',
  '1e20',
  '1E400',
  '-1e400',
  '9007199254740991',
  '9007199254740992',
  '-9007199254740993',
  '12345678901234567890',
  '123456789012345678901234.5',
  '1e-400',
  '100000000000000000000e-5',
];

function randomText(random: () => number, depth: number): string {
  const pick = random();
  if (depth > 5 || pick < 0.35) {
    const scalar = random();
    if (scalar < 0.35) return JSON.stringify(STRINGS[Math.floor(random() * STRINGS.length)]);
    if (scalar < 0.7) return NUMBERS[Math.floor(random() * NUMBERS.length)] as string;
    return random() < 0.5 ? 'true' : 'null';
  }
  const count = Math.floor(random() * 6);
  const parts: string[] = [];
  if (pick < 0.6) {
    for (let i = 0; i < count; i++) parts.push(randomText(random, depth + 1));
    return `[${parts.join(',')}]`;
  }
  for (let i = 0; i < count; i++) {
    // names repeat often: about half of the objects with several members fold one
    const name = NAMES[Math.floor(random() * (random() < 0.5 ? 3 : NAMES.length))] as string;
    parts.push(`${JSON.stringify(name)}:${randomText(random, depth + 1)}`);
  }
  return `{${parts.join(random() < 0.5 ? ',' : ' , ')}}`;
}

describe('parseJson: checking the parsed value gives what scanning first gives', () => {
  test('random documents under tight and default limits, valid and broken', () => {
    const random = prng(7);
    const tight: Limits = {
      maxDepth: 4,
      maxArrayLength: 3,
      maxStringLength: 10,
      maxObjectKeys: 3,
      unsafeNumbers: 'reject',
    };
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      let text = randomText(random, 0);
      // now and then a syntax error after the content
      if (random() < 0.05) text += ',';
      for (const limits of [tight, DEFAULT_JSON_LIMITS, { ...tight, unsafeNumbers: 'allow' as const }]) {
        const expected = scanThenParse(text, limits);
        assert.deepEqual(viaParseJson(text, limits), expected, text);
        const key = 'reason' in expected ? expected.reason : 'value';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    // every limit was broken by some document, and many documents passed
    for (const reason of [
      'value',
      'json_depth',
      'json_array_length',
      'json_string_length',
      'json_object_keys',
      'json_duplicate_key',
      'json_forbidden_key',
      'json_unsafe_number',
      'json_syntax',
    ]) {
      assert.ok((outcomes.get(reason) ?? 0) > 20, `${reason}: ${outcomes.get(reason) ?? 0}`);
    }
  });

  test('a folded member is seen even when every string around it holds colons', () => {
    const text = '{"a:b":"c:d","x":["::"],"a:b":"c:d"}';
    assert.equal(withinLimits(JSON.parse(text), text, DEFAULT_JSON_LIMITS), false);
    assert.deepEqual(viaParseJson(text, DEFAULT_JSON_LIMITS), {
      reason: 'json_duplicate_key',
      pointer: '/a:b',
    });
    const clean = '{"a:b":"c:d","x":["::"],"a:c":"c:d"}';
    assert.equal(withinLimits(JSON.parse(clean), clean, DEFAULT_JSON_LIMITS), true);
  });

  test('a prototype key, an unsafe integer and a too-deep value are refused on the parsed path', () => {
    for (const [text, reason] of [
      ['{"a":{"__proto__":{"isAdmin":true}}}', 'json_forbidden_key'],
      ['{"id":9007199254740993}', 'json_unsafe_number'],
      ['[[[[1]]]]', 'json_depth'],
    ] as const) {
      assert.equal(
        withinLimits(JSON.parse(text), text, { ...DEFAULT_JSON_LIMITS, maxDepth: 3 }),
        false,
        text,
      );
      assert.equal(
        (viaParseJson(text, { ...DEFAULT_JSON_LIMITS, maxDepth: 3 }) as { reason: string }).reason,
        reason,
      );
    }
    for (const key of FORBIDDEN_KEYS) {
      const text = `{"a":[{"${key}":1}]}`;
      assert.equal(withinLimits(JSON.parse(text), text, DEFAULT_JSON_LIMITS), false, key);
    }
    // an exponent literal of the same size is a float, allowed as before
    assert.deepEqual(viaParseJson('{"x":1e20}', DEFAULT_JSON_LIMITS), { value: { x: 1e20 } });
  });
});
