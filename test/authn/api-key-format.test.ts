import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateApiKey,
  parseApiKey,
  LOOKUP_ID_LENGTH,
  SECRET_LENGTH,
  SECRET_BYTES,
  MAX_API_KEY_LENGTH,
} from '../../src/authn/api-key-format.js';
import { crc32 } from '../../src/authn/crc32.js';

describe('API key format', () => {
  test('crc32 matches the standard check value', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32(''), 0);
  });

  test('generated keys carry the prefix, a look-up id, >=128 bits of secret and a checksum', () => {
    assert.ok(SECRET_BYTES * 8 >= 128);
    const { key, lookupId } = generateApiKey('pcs');
    const parts = key.split('_');
    assert.equal(parts.length, 4);
    assert.equal(parts[0], 'pcs');
    assert.equal(parts[1], lookupId);
    assert.equal(lookupId.length, LOOKUP_ID_LENGTH);
    assert.equal(parts[2]?.length, SECRET_LENGTH);
    assert.match(key, /^pcs_[0-9A-Za-z]+_[0-9A-Za-z]+_[0-9A-Za-z]{6}$/);
    assert.deepEqual(parseApiKey(key), { ok: true, key: { prefix: 'pcs', lookupId } });
  });

  test('keys are unique', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey('pcs').key));
    assert.equal(keys.size, 1000);
  });

  test('a typo anywhere is caught by the checksum', () => {
    const { key } = generateApiKey('acme');
    for (let i = 0; i < key.length; i++) {
      if (key[i] === '_') continue;
      const replacement = key[i] === 'a' ? 'b' : 'a';
      const typo = key.slice(0, i) + replacement + key.slice(i + 1);
      const result = parseApiKey(typo);
      assert.equal(result.ok, false, `typo at ${i} accepted`);
    }
  });

  test('wrong checksum is reported as such', () => {
    const { key } = generateApiKey('pcs');
    const bad = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
    assert.deepEqual(parseApiKey(bad), { ok: false, reason: 'bad_checksum' });
  });

  test('malformed keys are refused before any look-up', () => {
    const { key } = generateApiKey('pcs');
    const hostile = [
      '',
      'pcs',
      'Bearer ' + key,
      key + ' ',
      ' ' + key,
      key + '_',
      key.replaceAll('_', '-'),
      key.toUpperCase(),
      key.slice(0, -2),
      'x'.repeat(MAX_API_KEY_LENGTH + 1),
      'a'.repeat(100_000),
      key + ', ' + key,
      key.replace('pcs', 'PCS'),
      'pcs_' + '\u0000'.repeat(LOOKUP_ID_LENGTH) + key.slice(4 + LOOKUP_ID_LENGTH),
    ];
    for (const value of hostile)
      assert.equal(parseApiKey(value).ok, false, JSON.stringify(value.slice(0, 40)));
  });

  test('bad prefixes are refused at generation', () => {
    assert.throws(() => generateApiKey('a_b'), TypeError);
    assert.throws(() => generateApiKey('UP'), TypeError);
  });
});
