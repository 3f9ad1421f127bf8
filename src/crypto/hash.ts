import { timingSafeEqual } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * The keyed hash stored for an API key or client secret: HMAC-SHA-256 under the server pepper.
 * The pepper is wrapped by the KEK, so KEK rotation does not change these hashes.
 */
export function hashCredential(keyring: Keyring, value: string | Buffer): Buffer {
  return keyring.keyedHash(value);
}

/** Whether `value` hashes to `expected`, compared in constant time. */
export function verifyCredentialHash(keyring: Keyring, value: string | Buffer, expected: Buffer): boolean {
  const actual = keyring.keyedHash(value);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
