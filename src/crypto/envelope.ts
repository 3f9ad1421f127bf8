import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Envelope } from '../store/types.js';
import { DecryptionError } from './errors.js';
import type { Keyring } from './keyring.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/**
 * Encrypts `plaintext` under a fresh data key (AES-256-GCM, random 96-bit IV); the data key is
 * wrapped by the keyring's current KEK. `aad` binds the ciphertext to its record and field
 * (e.g. `secret:db-password:value`): opening it under another `aad` fails.
 */
export function seal(keyring: Keyring, plaintext: Buffer | string, aad: string): Envelope {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    const { wrappedKey, kekVersion } = keyring.wrapKey(dataKey, aad);
    return { ciphertext, iv, tag, wrappedKey, kekVersion };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts an envelope sealed with the same `aad`; throws DecryptionError when anything was changed. */
export function open(keyring: Keyring, envelope: Envelope, aad: string): Buffer {
  if (envelope.iv.length !== IV_BYTES || envelope.tag.length !== TAG_BYTES) {
    throw new DecryptionError('malformed', aad, 'ciphertext has a malformed IV or tag');
  }
  const dataKey = keyring.unwrapKey(envelope.wrappedKey, envelope.kekVersion, aad);
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, envelope.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(envelope.tag);
    return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
  } catch (error) {
    throw new DecryptionError('tampered', aad, 'ciphertext, tag or associated data does not verify', {
      cause: error,
    });
  } finally {
    dataKey.fill(0);
  }
}

/** Encrypts a data key under a KEK; the result is iv ‖ ciphertext ‖ tag. */
export function wrapWithKek(kek: Buffer, dataKey: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

export function unwrapWithKek(kek: Buffer, wrapped: Buffer, aad: string, context: string): Buffer {
  if (wrapped.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES) {
    throw new DecryptionError('malformed', context, 'wrapped data key has the wrong length');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new DecryptionError(
      'tampered',
      context,
      'wrapped data key does not verify (wrong KEK or tampered)',
      {
        cause: error,
      },
    );
  }
}
