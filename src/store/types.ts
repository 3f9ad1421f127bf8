/**
 * The credential store: consumers, credentials, OAuth clients, encrypted secrets, token-signing
 * keys, revoked tokens and quotas. Two implementations (SQLite, PostgreSQL) pass one contract
 * suite (test/store/contract.ts). Every method is async; timestamps are milliseconds since the
 * epoch; absent values are `null`.
 */

/** What changed, for cache invalidation on every node. `id` is the record's primary key. */
export type ChangeKind = 'api_key' | 'consumer' | 'client' | 'secret' | 'signing_key' | 'token';

export interface ChangeEvent {
  readonly kind: ChangeKind;
  /**
   * The changed record's primary key (consumer id, API key lookup id, client id, secret name,
   * signing key kid, token jti), or `*` when the feed was interrupted and any record of this
   * kind may have changed (drop every cached entry of the kind).
   */
  readonly id: string;
}

export type ChangeListener = (event: ChangeEvent) => void;

export interface Consumer {
  readonly id: string;
  /** Unique. */
  readonly name: string;
  readonly roles: readonly string[];
  readonly tenant: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly disabled: boolean;
}

export interface NewConsumer {
  /** Generated (UUID) when absent. */
  readonly id?: string;
  readonly name: string;
  readonly roles?: readonly string[];
  readonly tenant?: string | null;
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly disabled?: boolean;
}

export type ConsumerPatch = Partial<Pick<Consumer, 'name' | 'roles' | 'tenant' | 'attributes' | 'disabled'>>;

export interface ApiKeyRecord {
  /** Short public id embedded in the key; primary key. */
  readonly lookupId: string;
  readonly consumerId: string;
  /** `hashCredential(keyring, key)` (HMAC-SHA-256 with the server pepper). */
  readonly keyHash: Buffer;
  readonly scopes: readonly string[];
  /** Empty means any source address. */
  readonly allowedCidrs: readonly string[];
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  /** End of a rotation overlap window: the key stops working after this time. */
  readonly notAfter: number | null;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export interface NewApiKey {
  readonly lookupId: string;
  readonly consumerId: string;
  readonly keyHash: Buffer;
  readonly scopes?: readonly string[];
  readonly allowedCidrs?: readonly string[];
  readonly expiresAt?: number | null;
  readonly notAfter?: number | null;
}

export type ApiKeyPatch = Partial<
  Pick<ApiKeyRecord, 'scopes' | 'allowedCidrs' | 'expiresAt' | 'revokedAt' | 'notAfter'>
>;

export interface OAuthClientRecord {
  readonly clientId: string;
  readonly consumerId: string;
  /** `hashCredential(keyring, secret)`; null for `private_key_jwt` clients. */
  readonly secretHash: Buffer | null;
  /** A JWKS (`{ keys: [...] }`) or a single public JWK, for `private_key_jwt`. */
  readonly jwks: Readonly<Record<string, unknown>> | null;
  readonly allowedScopes: readonly string[];
  readonly revokedAt: number | null;
  readonly createdAt: number;
}

export interface NewOAuthClient {
  readonly clientId: string;
  readonly consumerId: string;
  readonly secretHash?: Buffer | null;
  readonly jwks?: Readonly<Record<string, unknown>> | null;
  readonly allowedScopes?: readonly string[];
}

export type OAuthClientPatch = Partial<
  Pick<OAuthClientRecord, 'secretHash' | 'jwks' | 'allowedScopes' | 'revokedAt'>
>;

/**
 * An AES-256-GCM ciphertext whose data key is wrapped by a key-encryption key (src/crypto/).
 * Produced and opened only by src/crypto/envelope.ts.
 */
export interface Envelope {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  /** The data key, encrypted under KEK version `kekVersion` (iv ‖ ciphertext ‖ tag). */
  readonly wrappedKey: Buffer;
  readonly kekVersion: number;
}

export interface SecretRecord {
  readonly name: string;
  readonly envelope: Envelope;
  /** Free-form, never secret (description, owner, ...). */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** `SecretRecord` without the ciphertext, for listings. */
export interface SecretInfo {
  readonly name: string;
  readonly kekVersion: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA';
  /** The private JWK (JSON), encrypted. */
  readonly privateKey: Envelope;
  readonly publicJwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** No longer used to sign after this time (null: active). */
  readonly retiredAt: number | null;
  /** Removed from the published JWKS after this time (null: kept). */
  readonly notAfter: number | null;
}

export type SigningKeyPatch = Partial<Pick<SigningKeyRecord, 'retiredAt' | 'notAfter'>>;

/** One envelope-encrypted value anywhere in the store, for KEK rotation. */
export interface WrappedKeyRef {
  readonly kind: 'secret' | 'signing_key';
  /** Secret name or signing key kid. */
  readonly id: string;
  readonly wrappedKey: Buffer;
  readonly kekVersion: number;
}

export interface RewrapUpdate extends WrappedKeyRef {
  /** The update applies only if the row still holds this wrapped key (compare-and-set). */
  readonly previousWrappedKey: Buffer;
}

export interface CredentialStore {
  readonly kind: 'sqlite' | 'postgres';

  // consumers
  createConsumer(input: NewConsumer): Promise<Consumer>;
  getConsumer(id: string): Promise<Consumer | null>;
  getConsumerByName(name: string): Promise<Consumer | null>;
  listConsumers(options?: { readonly tenant?: string }): Promise<Consumer[]>;
  updateConsumer(id: string, patch: ConsumerPatch): Promise<Consumer | null>;
  /**
   * Deletes the consumer with its API keys and OAuth clients in one transaction, announcing the
   * consumer and every removed key and client on the change feed. False when `id` is unknown.
   */
  deleteConsumer(id: string): Promise<boolean>;

  // API keys
  createApiKey(input: NewApiKey): Promise<ApiKeyRecord>;
  getApiKey(lookupId: string): Promise<ApiKeyRecord | null>;
  listApiKeys(options?: { readonly consumerId?: string }): Promise<ApiKeyRecord[]>;
  updateApiKey(lookupId: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | null>;
  deleteApiKey(lookupId: string): Promise<boolean>;
  /** Records last use for many keys in one write; the caller batches (emits no change event). */
  touchLastUsed(lookupIds: readonly string[], at?: number): Promise<void>;

  // OAuth clients
  createClient(input: NewOAuthClient): Promise<OAuthClientRecord>;
  getClient(clientId: string): Promise<OAuthClientRecord | null>;
  listClients(options?: { readonly consumerId?: string }): Promise<OAuthClientRecord[]>;
  updateClient(clientId: string, patch: OAuthClientPatch): Promise<OAuthClientRecord | null>;
  deleteClient(clientId: string): Promise<boolean>;

  // encrypted secrets (use src/crypto/secrets.ts rather than these directly)
  putSecret(name: string, envelope: Envelope, metadata?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Inserts only when `name` is absent; returns whether this call inserted it. */
  putSecretIfAbsent(
    name: string,
    envelope: Envelope,
    metadata?: Readonly<Record<string, unknown>>,
  ): Promise<boolean>;
  getSecret(name: string): Promise<SecretRecord | null>;
  listSecrets(): Promise<SecretInfo[]>;
  deleteSecret(name: string): Promise<boolean>;

  // token-signing keys
  createSigningKey(
    input: Omit<SigningKeyRecord, 'createdAt'> & { readonly createdAt?: number },
  ): Promise<SigningKeyRecord>;
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  updateSigningKey(kid: string, patch: SigningKeyPatch): Promise<SigningKeyRecord | null>;
  deleteSigningKey(kid: string): Promise<boolean>;

  // revoked tokens (RFC 7009)
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
  /**
   * Records `jti` in the ledger only when it is not there yet; true when this call recorded it.
   * Atomic across every gateway sharing the store: of concurrent calls with one id, exactly one
   * gets true (one-time use of client assertions).
   */
  recordTokenOnce(jti: string, expiresAt: number): Promise<boolean>;
  /** Deletes revocations of tokens that expired before `now`; returns how many. */
  purgeExpiredTokens(now?: number): Promise<number>;

  // quotas
  /**
   * Atomically adds `by` to the counter of (`key`, `periodId`) unless the result would exceed
   * `limit`. Returns the count after the call when applied; when refused, nothing is stored and
   * the returned value (> limit) is what the count would have been.
   */
  incrementQuota(key: string, periodId: string, by: number, limit: number): Promise<number>;
  getQuota(key: string, periodId: string): Promise<number>;
  /** Deletes counters of (`key`, any period other than `keepPeriodId`); returns how many. */
  pruneQuotas(key: string, keepPeriodId: string): Promise<number>;

  // key-encryption-key bookkeeping (src/crypto/ only)
  /** Small non-secret values (KEK check values). Returns the stored value (existing one wins). */
  setMetaIfAbsent(key: string, value: string): Promise<string>;
  getMeta(key: string): Promise<string | null>;
  /** Wrapped data keys not under `kekVersion`, a batch at a time. */
  listWrappedKeys(options: {
    readonly notKekVersion: number;
    readonly limit: number;
  }): Promise<WrappedKeyRef[]>;
  /** Replaces wrapped keys in one transaction (compare-and-set per row); returns rows changed. */
  rewrapKeys(updates: readonly RewrapUpdate[]): Promise<number>;
  /** How many data keys each KEK version wraps. */
  countByKekVersion(): Promise<Map<number, number>>;

  // change feed
  /**
   * Calls `listener` on this node within about 1 s of any change to consumers, API keys,
   * clients, secrets, signing keys or revoked tokens made by any node or process (including
   * this one). Returns an unsubscribe function.
   */
  subscribe(listener: ChangeListener): () => void;

  close(): Promise<void>;
}

/** The `store:` top-level config section. */
export type StoreConfig =
  | { readonly type: 'sqlite'; readonly path?: string }
  | { readonly type: 'postgres'; readonly url: string; readonly poolSize?: number };
