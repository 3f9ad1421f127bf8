import { createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { CredentialStore, SigningKeyRecord } from '../store/types.js';
import { open, seal } from './envelope.js';
import type { Keyring } from './keyring.js';

export type SigningAlg = SigningKeyRecord['alg'];

/** The associated data binding an encrypted private JWK to its row. */
export function signingKeyAad(kid: string): string {
  return `signing_key:${kid}:private`;
}

export interface ActiveSigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  /** Usable with jose `SignJWT#sign` and node:crypto. */
  readonly privateKey: KeyObject;
  readonly publicJwk: Readonly<Record<string, unknown>>;
}

/** Generates an ES256 (P-256) or EdDSA (Ed25519) key pair and stores the private JWK encrypted. */
export async function createSigningKey(
  keyring: Keyring,
  store: CredentialStore,
  alg: SigningAlg,
  now: number = Date.now(),
): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const publicBase = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicBase, 'sha256');
  const publicJwk = { ...publicBase, kid, alg, use: 'sig' };
  const privateJwk = JSON.stringify({ ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg });
  return store.createSigningKey({
    kid,
    alg,
    privateKey: seal(keyring, privateJwk, signingKeyAad(kid)),
    publicJwk,
    createdAt: now,
    retiredAt: null,
    notAfter: null,
  });
}

/** Decrypts a stored signing key. Throws DecryptionError when tampered. */
export function unsealSigningKey(keyring: Keyring, record: SigningKeyRecord): ActiveSigningKey {
  const jwk = JSON.parse(open(keyring, record.privateKey, signingKeyAad(record.kid)).toString('utf8')) as JWK;
  return {
    kid: record.kid,
    alg: record.alg,
    privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
    publicJwk: record.publicJwk,
  };
}

/** The newest key not yet retired at `now`. */
export function selectActiveKey(
  records: readonly SigningKeyRecord[],
  now: number,
): SigningKeyRecord | undefined {
  let best: SigningKeyRecord | undefined;
  for (const r of records) {
    if (r.retiredAt !== null && r.retiredAt <= now) continue;
    if (
      best === undefined ||
      r.createdAt > best.createdAt ||
      (r.createdAt === best.createdAt && r.kid > best.kid)
    )
      best = r;
  }
  return best;
}

/** The public JWKS: every key whose publication window (`notAfter`) has not ended. */
export function publishedJwks(
  records: readonly SigningKeyRecord[],
  now: number,
): { keys: Record<string, unknown>[] } {
  return {
    keys: records.filter((r) => r.notAfter === null || r.notAfter > now).map((r) => ({ ...r.publicJwk })),
  };
}

/**
 * Rotates the token-signing key: a new key becomes active at once; the previous active keys
 * stop signing and stay published for `publishForMs` (at least the longest token lifetime), so
 * tokens they signed keep verifying until they expire. Keys past their window are deleted.
 */
export async function rotateSigningKey(
  keyring: Keyring,
  store: CredentialStore,
  options: { readonly alg: SigningAlg; readonly publishForMs: number; readonly now?: number },
): Promise<SigningKeyRecord> {
  const now = options.now ?? Date.now();
  const before = await store.listSigningKeys();
  const created = await createSigningKey(keyring, store, options.alg, now);
  for (const r of before) {
    if (r.notAfter !== null && r.notAfter <= now) await store.deleteSigningKey(r.kid);
    else if (r.retiredAt === null || r.retiredAt > now) {
      await store.updateSigningKey(r.kid, { retiredAt: now, notAfter: now + options.publishForMs });
    }
  }
  return created;
}

/**
 * Cached view of the signing keys for the OAuth server: `current()` signs (creating the first
 * key on demand), `jwks()` publishes. The cache drops on any signing-key change from any node.
 */
export class SigningKeys {
  readonly #keyring: Keyring;
  readonly #store: CredentialStore;
  readonly #alg: SigningAlg;
  readonly #unsubscribe: () => void;
  #records: Promise<SigningKeyRecord[]> | undefined;
  readonly #unsealed = new Map<string, ActiveSigningKey>();

  constructor(keyring: Keyring, store: CredentialStore, options: { readonly alg: SigningAlg }) {
    this.#keyring = keyring;
    this.#store = store;
    this.#alg = options.alg;
    this.#unsubscribe = store.subscribe((event) => {
      if (event.kind === 'signing_key') this.invalidate();
    });
  }

  invalidate(): void {
    this.#records = undefined;
  }

  async #load(): Promise<SigningKeyRecord[]> {
    this.#records ??= this.#store.listSigningKeys().catch((error: unknown) => {
      this.#records = undefined;
      throw error;
    });
    return this.#records;
  }

  async current(now: number = Date.now()): Promise<ActiveSigningKey> {
    let active = selectActiveKey(await this.#load(), now);
    if (active === undefined || active.alg !== this.#alg) {
      await createSigningKey(this.#keyring, this.#store, this.#alg, now);
      this.invalidate();
      active = selectActiveKey(await this.#load(), now) as SigningKeyRecord;
    }
    let key = this.#unsealed.get(active.kid);
    if (key === undefined) {
      key = unsealSigningKey(this.#keyring, active);
      this.#unsealed.clear();
      this.#unsealed.set(active.kid, key);
    }
    return key;
  }

  async jwks(now: number = Date.now()): Promise<{ keys: Record<string, unknown>[] }> {
    return publishedJwks(await this.#load(), now);
  }

  async rotate(publishForMs: number): Promise<SigningKeyRecord> {
    const created = await rotateSigningKey(this.#keyring, this.#store, { alg: this.#alg, publishForMs });
    this.invalidate();
    return created;
  }

  close(): void {
    this.#unsubscribe();
  }
}
