import type { CredentialStore } from '../store/types.js';
import { open, seal } from './envelope.js';
import type { Keyring } from './keyring.js';

/** Names starting with this are kept by the gateway itself (the pepper). */
export const RESERVED_SECRET_PREFIX = 'portcullis.';
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The associated data binding a secret's ciphertext to its row and field. */
export function secretAad(name: string): string {
  return `secret:${name}:value`;
}

/** A `${secret:name}` reference names a secret that is not stored. */
export class SecretNotFoundError extends Error {
  readonly secretName: string;

  constructor(name: string) {
    super(`secret "${name}" is not stored; add it with \`portcullis secrets set ${name}\``);
    this.name = 'SecretNotFoundError';
    this.secretName = name;
  }
}

export function assertSecretName(name: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(
      'secret names are 1-128 characters: letters, digits, _ . - (not starting with . or -)',
    );
  }
  if (name.startsWith(RESERVED_SECRET_PREFIX)) {
    throw new TypeError(`secret names starting with "${RESERVED_SECRET_PREFIX}" are reserved`);
  }
}

/** Encrypts and stores (or replaces) a secret. */
export async function setSecret(
  keyring: Keyring,
  store: CredentialStore,
  name: string,
  value: string,
  metadata: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  assertSecretName(name);
  await store.putSecret(name, seal(keyring, value, secretAad(name)), metadata);
}

/** Decrypts a stored secret; `null` when absent. Throws DecryptionError when tampered. */
export async function readSecret(
  keyring: Keyring,
  store: CredentialStore,
  name: string,
): Promise<string | null> {
  const record = await store.getSecret(name);
  if (record === null) return null;
  return open(keyring, record.envelope, secretAad(name)).toString('utf8');
}

/** Resolves `${secret:name}` references in configuration. */
export function createSecretResolver(
  keyring: Keyring,
  store: CredentialStore,
): (name: string) => Promise<string> {
  return async (name) => {
    assertSecretName(name);
    const value = await readSecret(keyring, store, name);
    if (value === null) throw new SecretNotFoundError(name);
    return value;
  };
}
