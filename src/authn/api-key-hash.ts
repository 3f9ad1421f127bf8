import crypto from 'node:crypto';

/**
 * API keys are stored only as HMAC-SHA-256(pepper, full key). The pepper is a server secret held
 * by the keyring, so a leaked database alone does not allow offline guessing.
 */
export function hashApiKey(pepper: crypto.KeyObject | Buffer, key: string): Buffer {
  return crypto.createHmac('sha256', pepper).update(key, 'utf8').digest();
}

/** Constant-time comparison of two hashes (lengths are public: both are SHA-256 sized). */
export function hashesEqual(presented: Buffer, stored: Buffer): boolean {
  if (presented.length !== stored.length) {
    // Still spend one comparison so a malformed stored value does not shortcut the timing.
    crypto.timingSafeEqual(presented, presented);
    return false;
  }
  return crypto.timingSafeEqual(presented, stored);
}
