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
