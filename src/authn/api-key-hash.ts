import crypto from 'node:crypto';

/**
 * Constant-time comparison of a presented credential's keyed hash (HMAC-SHA-256 with the
 * keyring pepper, see crypto/hash.ts) with the stored one. Lengths are public: both are
 * SHA-256 sized.
 */
export function hashesEqual(presented: Buffer, stored: Buffer): boolean {
  if (presented.length !== stored.length) {
    // Still spend one comparison so a malformed stored value does not shortcut the timing.
    crypto.timingSafeEqual(presented, presented);
    return false;
  }
  return crypto.timingSafeEqual(presented, stored);
}

/**
 * Constant-time equality of a presented string with a known one: the time depends on the known
 * string's length only, never on where the two first differ. (No early exit and no branch on the
 * characters; `charCodeAt` past the end gives NaN, which `^` turns into 0 and the length check catches.)
 */
export function stringsEqual(presented: string, known: string): boolean {
  let diff = presented.length ^ known.length;
  for (let i = 0; i < known.length; i++) diff |= presented.charCodeAt(i) ^ known.charCodeAt(i);
  return diff === 0;
}
