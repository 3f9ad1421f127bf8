export type KeyringErrorCode =
  | 'kek_missing'
  | 'kek_weak'
  | 'kek_invalid'
  | 'kek_insecure_permissions'
  | 'kek_example'
  | 'kek_wrong'
  | 'kek_version_missing'
  | 'kek_retired'
  | 'kek_provider_failed'
  | 'config_invalid';

/** The keyring cannot be opened safely; the gateway refuses to start. Never contains key material. */
export class KeyringError extends Error {
  readonly code: KeyringErrorCode;

  constructor(code: KeyringErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyringError';
    this.code = code;
  }
}

export type DecryptionErrorCode = 'tampered' | 'unknown_kek_version' | 'malformed';

/**
 * A ciphertext did not verify: the ciphertext, tag, wrapped key or associated data was changed
 * (or moved to another record), or it was sealed under a KEK version this keyring lacks.
 */
export class DecryptionError extends Error {
  readonly code: DecryptionErrorCode;
  /** The associated data the caller expected, e.g. `secret:db-password:value`. */
  readonly context: string;

  constructor(code: DecryptionErrorCode, context: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (${context})`, options);
    this.name = 'DecryptionError';
    this.code = code;
    this.context = context;
  }
}
