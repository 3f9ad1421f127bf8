import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, seal } from '../../src/crypto/envelope.js';
import { DecryptionError } from '../../src/crypto/errors.js';
import { Keyring } from '../../src/crypto/keyring.js';
import type { Envelope } from '../../src/store/types.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const keyring = new Keyring(
  new Map([
    [1, k1],
    [2, k2],
  ]),
  2,
);
const AAD = 'secret:db-password:value';

function refused(code: DecryptionError['code']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DecryptionError, String(error));
    assert.equal(error.code, code);
    return true;
  };
}

function flip(buf: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buf);
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}

test('seal/open round trip; the plaintext does not appear in the envelope', () => {
  const plaintext = 'hunter2-super-secret-value';
  const env = seal(keyring, plaintext, AAD);
  assert.equal(env.kekVersion, 2);
  assert.equal(env.iv.length, 12);
  assert.equal(env.tag.length, 16);
  assert.equal(open(keyring, env, AAD).toString('utf8'), plaintext);
  for (const part of [env.ciphertext, env.wrappedKey, env.iv, env.tag]) {
    assert.ok(!part.includes(Buffer.from(plaintext)));
  }
});

test('every seal uses a fresh IV and data key', () => {
  const a = seal(keyring, 'same', AAD);
  const b = seal(keyring, 'same', AAD);
  assert.ok(!a.iv.equals(b.iv));
  assert.ok(!a.ciphertext.equals(b.ciphertext));
  assert.ok(!a.wrappedKey.equals(b.wrappedKey));
});

test('tampered ciphertext, tag, IV or wrapped key is refused', () => {
  const env = seal(keyring, 'value', AAD);
  const variants: Envelope[] = [
    { ...env, ciphertext: flip(env.ciphertext) },
    { ...env, tag: flip(env.tag, 15) },
    { ...env, iv: flip(env.iv, 11) },
    { ...env, wrappedKey: flip(env.wrappedKey, 20) },
    { ...env, wrappedKey: flip(env.wrappedKey, 59) },
    { ...env, ciphertext: Buffer.concat([env.ciphertext, Buffer.from([0])]) },
  ];
  for (const v of variants) assert.throws(() => open(keyring, v, AAD), refused('tampered'));
});

test('a ciphertext moved to another record or field is refused (associated data)', () => {
  const env = seal(keyring, 'value', AAD);
  assert.throws(() => open(keyring, env, 'secret:other:value'), refused('tampered'));
  assert.throws(() => open(keyring, env, 'secret:db-password:metadata'), refused('tampered'));
});

test('a wrapped key relabelled with another KEK version is refused', () => {
  const env = seal(keyring, 'value', AAD);
  assert.throws(() => open(keyring, { ...env, kekVersion: 1 }, AAD), refused('tampered'));
  assert.throws(() => open(keyring, { ...env, kekVersion: 9 }, AAD), refused('unknown_kek_version'));
});

test('the wrong KEK cannot open a ciphertext', () => {
  const env = seal(keyring, 'value', AAD);
  const other = new Keyring(new Map([[2, randomBytes(32)]]), 2);
  assert.throws(() => open(other, env, AAD), refused('tampered'));
});

test('malformed IV or tag lengths are refused', () => {
  const env = seal(keyring, 'value', AAD);
  assert.throws(() => open(keyring, { ...env, tag: env.tag.subarray(0, 4) }, AAD), refused('malformed'));
  assert.throws(() => open(keyring, { ...env, iv: Buffer.alloc(0) }, AAD), refused('malformed'));
  assert.throws(
    () => open(keyring, { ...env, wrappedKey: env.wrappedKey.subarray(1) }, AAD),
    refused('malformed'),
  );
});

test('error messages never contain key material or plaintext', () => {
  const env = seal(keyring, 'plain-text-value', AAD);
  try {
    open(keyring, { ...env, tag: flip(env.tag) }, AAD);
    assert.fail('should throw');
  } catch (error) {
    const text = String((error as Error).message) + String((error as Error).stack);
    for (const needle of [
      'plain-text-value',
      k1.toString('base64'),
      k2.toString('base64'),
      k2.toString('hex'),
    ]) {
      assert.ok(!text.includes(needle));
    }
  }
});
