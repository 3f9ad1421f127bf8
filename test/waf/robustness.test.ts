import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileInjection } from '../../src/waf/config.js';
import { scanRequest } from '../../src/waf/scan-request.js';
import { findSensitive, DETECTOR_IDS } from '../../src/dlp/detectors.js';
import { allClasses } from './corpus.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  ...`'"\`;|&$<>(){}[]\\/.%#*=-+@:!?~^ \n\t\0azAZ09`,
  '%',
  '%2',
  '%25',
  '%c0',
  '&#',
  '&#x',
  '&#xD800;',
  '&#x110000;',
  '&#0;',
  '&lt',
  '\uD800',
  '\uDFFF',
  '\uFFFD',
  'é',
  '＜',
  '①',
  'ﬁ',
  '\u2215',
  'union',
  'select',
  ' or ',
  'on',
  'error=',
  '{{',
  '${',
  '../',
  'eyJ',
  'AKIA',
  '4111',
];

test('no input makes the detectors throw (10 000 random values, lone surrogates and broken escapes included)', () => {
  const next = random(20261128);
  const inspectors = [allClasses(1), allClasses(4)];
  for (let n = 0; n < 10_000; n++) {
    let value = '';
    const length = Math.floor(next() * 40);
    for (let i = 0; i < length; i++) value += ALPHABET[Math.floor(next() * ALPHABET.length)];
    for (const inspector of inspectors) {
      assert.doesNotThrow(() => inspector.inspectValue(value, next() < 0.5), JSON.stringify(value));
      assert.doesNotThrow(() => inspector.inspectKey(value), JSON.stringify(value));
    }
    assert.doesNotThrow(() => findSensitive(value, DETECTOR_IDS), JSON.stringify(value));
  }
});

test('odd request shapes are scanned without throwing', async () => {
  const plan = compileInjection({}, (message) => {
    throw new Error(message);
  });
  const odd: unknown[] = [null, 1, true, [], {}, [[[['x']]]], { '': '' }, { __proto__: 'x' }, '\uD800'];
  for (const value of odd) {
    await assert.doesNotReject(async () => {
      await scanRequest(plan, {
        query: '%%%&&==&a=%ZZ&b',
        params: {},
        header: () => 'a=%;b',
        body: { kind: 'json', value },
      });
    });
  }
  await scanRequest(plan, {
    query: '',
    params: {},
    header: () => undefined,
    body: { kind: 'form', text: '%%&=&==' },
  });
});
