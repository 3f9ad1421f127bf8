import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CredentialStore } from '../store/types.js';
import { DEFAULT_KEK, type KekConfig, type SecretsConfig } from './config.js';
import { open, seal, unwrapWithKek, wrapWithKek } from './envelope.js';
import { DecryptionError, KeyringError } from './errors.js';
import { createKekProvider } from './kek-providers.js';

/** The stored secret holding the pepper for keyed credential hashes (reserved name). */
export const PEPPER_SECRET = 'portcullis.pepper';
const PEPPER_BYTES = 32;

/**
 * Holds the key-encryption keys (current and older versions) and the credential-hash pepper.
 * Raw key material never leaves this object: callers wrap, unwrap and hash through it.
 */
export class Keyring {
  readonly currentVersion: number;
  readonly #keks: ReadonlyMap<number, Buffer>;
  #pepper: Buffer | undefined;

  constructor(keks: ReadonlyMap<number, Buffer>, currentVersion: number) {
    if (!keks.has(currentVersion))
      throw new TypeError(`current KEK version ${currentVersion} is not in the keyring`);
    this.#keks = keks;
    this.currentVersion = currentVersion;
  }

  /** Every KEK version this keyring can unwrap, ascending. */
  get versions(): number[] {
    return [...this.#keks.keys()].sort((a, b) => a - b);
  }

  hasVersion(version: number): boolean {
    return this.#keks.has(version);
  }

  /** Wraps a data key under the current KEK, bound to `aad` and the version. */
  wrapKey(dataKey: Buffer, aad: string): { wrappedKey: Buffer; kekVersion: number } {
    const kek = this.#keks.get(this.currentVersion) as Buffer;
    return {
      wrappedKey: wrapWithKek(kek, dataKey, wrapAad(this.currentVersion, aad)),
      kekVersion: this.currentVersion,
    };
  }

  unwrapKey(wrappedKey: Buffer, kekVersion: number, aad: string): Buffer {
    const kek = this.#keks.get(kekVersion);
    if (kek === undefined) {
      throw new DecryptionError(
        'unknown_kek_version',
        aad,
        `data key is wrapped by KEK version ${kekVersion}, which is not configured (secrets.kek / secrets.previous)`,
      );
    }
    return unwrapWithKek(kek, wrappedKey, wrapAad(kekVersion, aad), aad);
  }

  /** HMAC-SHA-256 of `value` under the server pepper (see hash.ts). */
  keyedHash(value: Buffer | string): Buffer {
    if (this.#pepper === undefined)
      throw new TypeError('keyring was opened without a store: no pepper for credential hashes');
    return createHmac('sha256', this.#pepper).update(value).digest();
  }

  /** A value proving which key a version holds, without revealing it. */
  checkValue(version: number): string {
    const kek = this.#keks.get(version);
    if (kek === undefined) throw new TypeError(`KEK version ${version} is not in the keyring`);
    return createHmac('sha256', kek).update('portcullis:kek-check').digest('base64url');
  }

  /** Used by openKeyring only. */
  attachPepper(pepper: Buffer): void {
    if (pepper.length !== PEPPER_BYTES)
      throw new KeyringError('kek_invalid', 'stored pepper has the wrong length');
    this.#pepper = pepper;
  }
}

function wrapAad(version: number, aad: string): string {
  return `kek:v${version}|${aad}`;
}

/** Loads every configured KEK version (no store checks). Throws KeyringError when one is unusable. */
export async function loadKeyring(config: SecretsConfig | undefined, configDir: string): Promise<Keyring> {
  const current: KekConfig = config?.kek ?? DEFAULT_KEK;
  const all = [current, ...(config?.previous ?? [])];
  const keks = new Map<number, Buffer>();
  for (const entry of all) {
    const provider = createKekProvider(entry, configDir);
    if (keks.has(provider.version)) {
      throw new KeyringError(
        'config_invalid',
        `KEK version ${provider.version} is configured twice in secrets`,
      );
    }
    keks.set(provider.version, await provider.load());
  }
  const seen: Buffer[] = [];
  for (const key of keks.values()) {
    if (seen.some((other) => timingSafeEqual(other, key))) {
      throw new KeyringError('config_invalid', 'two KEK versions hold the same key');
    }
    seen.push(key);
  }
  return new Keyring(keks, current.version ?? 1);
}

export interface OpenKeyringOptions {
  readonly config: SecretsConfig | undefined;
  readonly configDir: string;
  readonly store: CredentialStore;
}

/**
 * Loads the KEKs and checks them against the store: each version must match the key first
 * used with it (a wrong key refuses start), every version still wrapping data must be
 * configured, and the pepper is created on first use and unwrapped.
 */
export async function openKeyring(options: OpenKeyringOptions): Promise<Keyring> {
  const keyring = await loadKeyring(options.config, options.configDir);
  const { store } = options;
  for (const version of keyring.versions) {
    const mine = keyring.checkValue(version);
    const recorded = await store.setMetaIfAbsent(`kek.check.v${version}`, mine);
    if (!timingSafeEqual(Buffer.from(recorded), Buffer.from(mine))) {
      throw new KeyringError(
        'kek_wrong',
        `KEK version ${version} is not the key this store was encrypted with (check secrets.kek / secrets.previous)`,
      );
    }
  }
  const retired = await store.getMeta(`kek.retired.v${keyring.currentVersion}`);
  if (retired !== null) {
    throw new KeyringError(
      'kek_retired',
      `KEK version ${keyring.currentVersion} was retired by \`portcullis secrets rotate\` (${retired}); configure the newer version as secrets.kek`,
    );
  }
  const inUse = await store.countByKekVersion();
  for (const [version, count] of inUse) {
    if (count > 0 && !keyring.hasVersion(version)) {
      throw new KeyringError(
        'kek_version_missing',
        `${count} stored data key(s) are wrapped by KEK version ${version}, which is not configured; add it to secrets.previous`,
      );
    }
  }
  keyring.attachPepper(await loadPepper(keyring, store));
  return keyring;
}

const PEPPER_AAD = `secret:${PEPPER_SECRET}:value`;

async function loadPepper(keyring: Keyring, store: CredentialStore): Promise<Buffer> {
  let record = await store.getSecret(PEPPER_SECRET);
  if (record === null) {
    const pepper = randomBytes(PEPPER_BYTES);
    await store.putSecretIfAbsent(PEPPER_SECRET, seal(keyring, pepper, PEPPER_AAD), {
      description: 'pepper for keyed hashes of API keys and client secrets',
      system: true,
    });
    pepper.fill(0);
    record = await store.getSecret(PEPPER_SECRET);
    if (record === null) throw new KeyringError('kek_invalid', 'pepper could not be stored');
  }
  return open(keyring, record.envelope, PEPPER_AAD);
}
