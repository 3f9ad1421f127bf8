import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ChangeHub, isChangeKind } from './change-hub.js';
import { StoreError } from './errors.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import {
  assertId,
  quotaArgs,
  toApiKey,
  toClient,
  toConsumer,
  toSecret,
  toSecretInfo,
  toSigningKey,
  toWrappedKeyRef,
} from './rows.js';
import type {
  ApiKeyPatch,
  ApiKeyRecord,
  ChangeKind,
  ChangeListener,
  Consumer,
  ConsumerPatch,
  CredentialStore,
  Envelope,
  NewApiKey,
  NewConsumer,
  NewOAuthClient,
  OAuthClientPatch,
  OAuthClientRecord,
  RewrapUpdate,
  SecretInfo,
  SecretRecord,
  SigningKeyPatch,
  SigningKeyRecord,
  WrappedKeyRef,
} from './types.js';

export interface PostgresStoreOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly onError?: (error: unknown) => void;
}

type Row = Record<string, unknown>;

/** The NOTIFY channel (notifications are scoped to the database, so one name is enough). */
const CHANNEL = 'portcullis_changes';
/** Arbitrary constant serialising migrations across nodes. */
const MIGRATION_LOCK = 748_213_507;

interface Tx {
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  change(kind: ChangeKind, id: string): void;
}

/** The shared store for several gateway nodes; changes reach every node through LISTEN/NOTIFY. */
export class PostgresStore implements CredentialStore {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #hub: ChangeHub;
  readonly #onError: (error: unknown) => void;
  #listener: pg.Client | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #backoffMs = 100;
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.#url = options.url;
    this.#onError = options.onError ?? (() => {});
    this.#pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    this.#pool.on('error', (error) => this.#onError(error));
    this.#hub = new ChangeHub(this.#onError);
  }

  /** Connects and applies pending migrations. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.#migrate();
    } catch (error) {
      await store.#pool.end().catch(() => {});
      throw mapError(error);
    }
    // Listen from the start, so no change made after open() is missed by later subscribers
    // (a failure here retries in the background).
    await store.#startListener(false);
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#tx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const [row] = await tx.query('SELECT max(version) AS v FROM schema_version');
      const current = Number(row?.['v'] ?? 0);
      if (current > POSTGRES_MIGRATIONS.length) {
        throw new StoreError(
          'invalid',
          `database schema version ${current} is newer than this gateway supports`,
        );
      }
      for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) {
        await tx.query(POSTGRES_MIGRATIONS[v] as string);
        await tx.query('INSERT INTO schema_version (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  async #query(sql: string, params: unknown[] = []): Promise<Row[]> {
    if (this.#closed) throw new StoreError('unavailable', 'store is closed');
    try {
      return (await this.#pool.query(sql, params)).rows as Row[];
    } catch (error) {
      throw mapError(error);
    }
  }

  async #one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.#query(sql, params))[0];
  }

  /** Runs `fn` in a transaction; queued change notifications are sent with the commit. */
  async #tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('unavailable', 'store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw mapError(error);
    }
    const changes: string[] = [];
    const tx: Tx = {
      query: async (sql, params = []) => (await client.query(sql, params)).rows as Row[],
      change: (kind, id) => {
        changes.push(JSON.stringify({ k: kind, i: id }));
      },
    };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      if (changes.length > 0) {
        await client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [CHANNEL, changes]);
      }
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw mapError(error);
    } finally {
      client.release();
    }
  }

  // consumers

  async createConsumer(input: NewConsumer): Promise<Consumer> {
    assertId(input.name, 'consumer name');
    const id = input.id ?? randomUUID();
    assertId(id, 'consumer id');
    return this.#tx(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO consumers (id, name, roles, tenant, attributes, created_at, disabled)
         VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6, $7) RETURNING *`,
        [
          id,
          input.name,
          JSON.stringify(input.roles ?? []),
          input.tenant ?? null,
          JSON.stringify(input.attributes ?? {}),
          Date.now(),
          input.disabled === true,
        ],
      );
      tx.change('consumer', id);
      return toConsumer(row as Row);
    });
  }

  async getConsumer(id: string): Promise<Consumer | null> {
    const row = await this.#one('SELECT * FROM consumers WHERE id = $1', [id]);
    return row === undefined ? null : toConsumer(row);
  }

  async getConsumerByName(name: string): Promise<Consumer | null> {
    const row = await this.#one('SELECT * FROM consumers WHERE name = $1', [name]);
    return row === undefined ? null : toConsumer(row);
  }

  async listConsumers(options: { readonly tenant?: string } = {}): Promise<Consumer[]> {
    const rows =
      options.tenant === undefined
        ? await this.#query('SELECT * FROM consumers ORDER BY name')
        : await this.#query('SELECT * FROM consumers WHERE tenant = $1 ORDER BY name', [options.tenant]);
    return rows.map(toConsumer);
  }

  async updateConsumer(id: string, patch: ConsumerPatch): Promise<Consumer | null> {
    if (patch.name !== undefined) assertId(patch.name, 'consumer name');
    return this.#tx(async (tx) => {
      const [row] = await tx.query('SELECT * FROM consumers WHERE id = $1 FOR UPDATE', [id]);
      if (row === undefined) return null;
      const cur = toConsumer(row);
      const [updated] = await tx.query(
        `UPDATE consumers SET name = $1, roles = $2::jsonb, tenant = $3, attributes = $4::jsonb, disabled = $5
         WHERE id = $6 RETURNING *`,
        [
          patch.name ?? cur.name,
          JSON.stringify(patch.roles ?? cur.roles),
          patch.tenant === undefined ? cur.tenant : patch.tenant,
          JSON.stringify(patch.attributes ?? cur.attributes),
          patch.disabled ?? cur.disabled,
          id,
        ],
      );
      tx.change('consumer', id);
      return toConsumer(updated as Row);
    });
  }

  async deleteConsumer(id: string): Promise<boolean> {
    return this.#tx(async (tx) => {
      // The row lock conflicts with the key share lock a concurrent key or client insert takes on
      // its consumer: such an insert either committed already (and is deleted and announced here)
      // or waits and then fails as not_found. Without it, a key added between reading the list and
      // the cascade would be deleted with no change event.
      const [found] = await tx.query('SELECT id FROM consumers WHERE id = $1 FOR UPDATE', [id]);
      if (found === undefined) return false;
      const keys = await tx.query('DELETE FROM api_keys WHERE consumer_id = $1 RETURNING lookup_id', [id]);
      const clients = await tx.query('DELETE FROM oauth_clients WHERE consumer_id = $1 RETURNING client_id', [
        id,
      ]);
      await tx.query('DELETE FROM consumers WHERE id = $1', [id]);
      tx.change('consumer', id);
      for (const k of keys) tx.change('api_key', k['lookup_id'] as string);
      for (const c of clients) tx.change('client', c['client_id'] as string);
      return true;
    });
  }

  // API keys

  async createApiKey(input: NewApiKey): Promise<ApiKeyRecord> {
    assertId(input.lookupId, 'API key lookup id');
    return this.#tx(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO api_keys (lookup_id, consumer_id, key_hash, scopes, allowed_cidrs, expires_at, not_after, created_at)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8) RETURNING *`,
        [
          input.lookupId,
          input.consumerId,
          input.keyHash,
          JSON.stringify(input.scopes ?? []),
          JSON.stringify(input.allowedCidrs ?? []),
          input.expiresAt ?? null,
          input.notAfter ?? null,
          Date.now(),
        ],
      );
      tx.change('api_key', input.lookupId);
      return toApiKey(row as Row);
    });
  }

  async getApiKey(lookupId: string): Promise<ApiKeyRecord | null> {
    const row = await this.#one('SELECT * FROM api_keys WHERE lookup_id = $1', [lookupId]);
    return row === undefined ? null : toApiKey(row);
  }

  async listApiKeys(options: { readonly consumerId?: string } = {}): Promise<ApiKeyRecord[]> {
    const rows =
      options.consumerId === undefined
        ? await this.#query('SELECT * FROM api_keys ORDER BY created_at, lookup_id')
        : await this.#query('SELECT * FROM api_keys WHERE consumer_id = $1 ORDER BY created_at, lookup_id', [
            options.consumerId,
          ]);
    return rows.map(toApiKey);
  }

  async updateApiKey(lookupId: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | null> {
    return this.#tx(async (tx) => {
      const [row] = await tx.query('SELECT * FROM api_keys WHERE lookup_id = $1 FOR UPDATE', [lookupId]);
      if (row === undefined) return null;
      const cur = toApiKey(row);
      const [updated] = await tx.query(
        `UPDATE api_keys SET scopes = $1::jsonb, allowed_cidrs = $2::jsonb, expires_at = $3, revoked_at = $4, not_after = $5
         WHERE lookup_id = $6 RETURNING *`,
        [
          JSON.stringify(patch.scopes ?? cur.scopes),
          JSON.stringify(patch.allowedCidrs ?? cur.allowedCidrs),
          patch.expiresAt === undefined ? cur.expiresAt : patch.expiresAt,
          patch.revokedAt === undefined ? cur.revokedAt : patch.revokedAt,
          patch.notAfter === undefined ? cur.notAfter : patch.notAfter,
          lookupId,
        ],
      );
      tx.change('api_key', lookupId);
      return toApiKey(updated as Row);
    });
  }

  async deleteApiKey(lookupId: string): Promise<boolean> {
    return this.#tx(async (tx) => {
      const rows = await tx.query('DELETE FROM api_keys WHERE lookup_id = $1 RETURNING lookup_id', [
        lookupId,
      ]);
      if (rows.length > 0) tx.change('api_key', lookupId);
      return rows.length > 0;
    });
  }

  async touchLastUsed(lookupIds: readonly string[], at: number = Date.now()): Promise<void> {
    if (lookupIds.length === 0) return;
    await this.#query(
      `UPDATE api_keys SET last_used_at = $1
       WHERE lookup_id = ANY($2::text[]) AND (last_used_at IS NULL OR last_used_at < $1)`,
      [at, [...new Set(lookupIds)]],
    );
  }

  // OAuth clients

  async createClient(input: NewOAuthClient): Promise<OAuthClientRecord> {
    assertId(input.clientId, 'client id');
    return this.#tx(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO oauth_clients (client_id, consumer_id, secret_hash, jwks, allowed_scopes, created_at)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6) RETURNING *`,
        [
          input.clientId,
          input.consumerId,
          input.secretHash ?? null,
          input.jwks === undefined || input.jwks === null ? null : JSON.stringify(input.jwks),
          JSON.stringify(input.allowedScopes ?? []),
          Date.now(),
        ],
      );
      tx.change('client', input.clientId);
      return toClient(row as Row);
    });
  }

  async getClient(clientId: string): Promise<OAuthClientRecord | null> {
    const row = await this.#one('SELECT * FROM oauth_clients WHERE client_id = $1', [clientId]);
    return row === undefined ? null : toClient(row);
  }

  async listClients(options: { readonly consumerId?: string } = {}): Promise<OAuthClientRecord[]> {
    const rows =
      options.consumerId === undefined
        ? await this.#query('SELECT * FROM oauth_clients ORDER BY client_id')
        : await this.#query('SELECT * FROM oauth_clients WHERE consumer_id = $1 ORDER BY client_id', [
            options.consumerId,
          ]);
    return rows.map(toClient);
  }

  async updateClient(clientId: string, patch: OAuthClientPatch): Promise<OAuthClientRecord | null> {
    return this.#tx(async (tx) => {
      const [row] = await tx.query('SELECT * FROM oauth_clients WHERE client_id = $1 FOR UPDATE', [clientId]);
      if (row === undefined) return null;
      const cur = toClient(row);
      const jwks = patch.jwks === undefined ? cur.jwks : patch.jwks;
      const [updated] = await tx.query(
        `UPDATE oauth_clients SET secret_hash = $1, jwks = $2::jsonb, allowed_scopes = $3::jsonb, revoked_at = $4
         WHERE client_id = $5 RETURNING *`,
        [
          patch.secretHash === undefined ? cur.secretHash : patch.secretHash,
          jwks === null ? null : JSON.stringify(jwks),
          JSON.stringify(patch.allowedScopes ?? cur.allowedScopes),
          patch.revokedAt === undefined ? cur.revokedAt : patch.revokedAt,
          clientId,
        ],
      );
      tx.change('client', clientId);
      return toClient(updated as Row);
    });
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#tx(async (tx) => {
      const rows = await tx.query('DELETE FROM oauth_clients WHERE client_id = $1 RETURNING client_id', [
        clientId,
      ]);
      if (rows.length > 0) tx.change('client', clientId);
      return rows.length > 0;
    });
  }

  // secrets

  async putSecret(
    name: string,
    envelope: Envelope,
    metadata: Readonly<Record<string, unknown>> = {},
  ): Promise<void> {
    assertId(name, 'secret name');
    const now = Date.now();
    await this.#tx(async (tx) => {
      await tx.query(
        `INSERT INTO secrets (name, ciphertext, iv, tag, wrapped_key, kek_version, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8)
         ON CONFLICT (name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
           wrapped_key = EXCLUDED.wrapped_key, kek_version = EXCLUDED.kek_version, metadata = EXCLUDED.metadata,
           updated_at = EXCLUDED.updated_at`,
        [
          name,
          envelope.ciphertext,
          envelope.iv,
          envelope.tag,
          envelope.wrappedKey,
          envelope.kekVersion,
          JSON.stringify(metadata),
          now,
        ],
      );
      tx.change('secret', name);
    });
  }

  async putSecretIfAbsent(
    name: string,
    envelope: Envelope,
    metadata: Readonly<Record<string, unknown>> = {},
  ): Promise<boolean> {
    assertId(name, 'secret name');
    const now = Date.now();
    return this.#tx(async (tx) => {
      const rows = await tx.query(
        `INSERT INTO secrets (name, ciphertext, iv, tag, wrapped_key, kek_version, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8) ON CONFLICT (name) DO NOTHING RETURNING name`,
        [
          name,
          envelope.ciphertext,
          envelope.iv,
          envelope.tag,
          envelope.wrappedKey,
          envelope.kekVersion,
          JSON.stringify(metadata),
          now,
        ],
      );
      if (rows.length > 0) tx.change('secret', name);
      return rows.length > 0;
    });
  }

  async getSecret(name: string): Promise<SecretRecord | null> {
    const row = await this.#one('SELECT * FROM secrets WHERE name = $1', [name]);
    return row === undefined ? null : toSecret(row);
  }

  async listSecrets(): Promise<SecretInfo[]> {
    const rows = await this.#query(
      'SELECT name, kek_version, metadata, created_at, updated_at FROM secrets ORDER BY name',
    );
    return rows.map(toSecretInfo);
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.#tx(async (tx) => {
      const rows = await tx.query('DELETE FROM secrets WHERE name = $1 RETURNING name', [name]);
      if (rows.length > 0) tx.change('secret', name);
      return rows.length > 0;
    });
  }

  // signing keys

  async createSigningKey(
    input: Omit<SigningKeyRecord, 'createdAt'> & { readonly createdAt?: number },
  ): Promise<SigningKeyRecord> {
    assertId(input.kid, 'signing key id');
    const e = input.privateKey;
    return this.#tx(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO signing_keys (kid, alg, ciphertext, iv, tag, wrapped_key, kek_version, public_jwk, created_at, retired_at, not_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11) RETURNING *`,
        [
          input.kid,
          input.alg,
          e.ciphertext,
          e.iv,
          e.tag,
          e.wrappedKey,
          e.kekVersion,
          JSON.stringify(input.publicJwk),
          input.createdAt ?? Date.now(),
          input.retiredAt,
          input.notAfter,
        ],
      );
      tx.change('signing_key', input.kid);
      return toSigningKey(row as Row);
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.#query('SELECT * FROM signing_keys ORDER BY created_at, kid')).map(toSigningKey);
  }

  async updateSigningKey(kid: string, patch: SigningKeyPatch): Promise<SigningKeyRecord | null> {
    return this.#tx(async (tx) => {
      const [row] = await tx.query('SELECT * FROM signing_keys WHERE kid = $1 FOR UPDATE', [kid]);
      if (row === undefined) return null;
      const cur = toSigningKey(row);
      const [updated] = await tx.query(
        'UPDATE signing_keys SET retired_at = $1, not_after = $2 WHERE kid = $3 RETURNING *',
        [
          patch.retiredAt === undefined ? cur.retiredAt : patch.retiredAt,
          patch.notAfter === undefined ? cur.notAfter : patch.notAfter,
          kid,
        ],
      );
      tx.change('signing_key', kid);
      return toSigningKey(updated as Row);
    });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#tx(async (tx) => {
      const rows = await tx.query('DELETE FROM signing_keys WHERE kid = $1 RETURNING kid', [kid]);
      if (rows.length > 0) tx.change('signing_key', kid);
      return rows.length > 0;
    });
  }

  // revoked tokens

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    assertId(jti, 'token id');
    await this.#tx(async (tx) => {
      await tx.query(
        `INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)
         ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
        [jti, expiresAt],
      );
      tx.change('token', jti);
    });
  }

  async recordTokenOnce(jti: string, expiresAt: number): Promise<boolean> {
    assertId(jti, 'token id');
    return this.#tx(async (tx) => {
      const rows = await tx.query(
        'INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING jti',
        [jti, expiresAt],
      );
      if (rows.length > 0) tx.change('token', jti);
      return rows.length > 0;
    });
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return (await this.#one('SELECT 1 AS x FROM revoked_tokens WHERE jti = $1', [jti])) !== undefined;
  }

  async purgeExpiredTokens(now: number = Date.now()): Promise<number> {
    return (await this.#query('DELETE FROM revoked_tokens WHERE expires_at < $1 RETURNING jti', [now]))
      .length;
  }

  // quotas

  async incrementQuota(key: string, periodId: string, byArg: number, limitArg: number): Promise<number> {
    const { by, limit } = quotaArgs(byArg, limitArg);
    const [row] = await this.#query(
      `INSERT INTO quotas AS q (key, period_id, count) SELECT $1, $2, $3::bigint WHERE $3::bigint <= $4::bigint
       ON CONFLICT (key, period_id) DO UPDATE SET count = q.count + EXCLUDED.count
       WHERE q.count + EXCLUDED.count <= $4::bigint
       RETURNING count`,
      [key, periodId, by, limit],
    );
    if (row !== undefined) return Number(row['count']);
    const current = await this.getQuota(key, periodId);
    return Math.max(current + by, limit + 1);
  }

  async getQuota(key: string, periodId: string): Promise<number> {
    const row = await this.#one('SELECT count FROM quotas WHERE key = $1 AND period_id = $2', [
      key,
      periodId,
    ]);
    return row === undefined ? 0 : Number(row['count']);
  }

  async pruneQuotas(key: string, keepPeriodId: string): Promise<number> {
    return (
      await this.#query('DELETE FROM quotas WHERE key = $1 AND period_id <> $2 RETURNING key', [
        key,
        keepPeriodId,
      ])
    ).length;
  }

  // KEK bookkeeping

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    await this.#query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      value,
    ]);
    return (await this.getMeta(key)) as string;
  }

  async getMeta(key: string): Promise<string | null> {
    const row = await this.#one('SELECT value FROM meta WHERE key = $1', [key]);
    return row === undefined ? null : (row['value'] as string);
  }

  async listWrappedKeys(options: {
    readonly notKekVersion: number;
    readonly limit: number;
  }): Promise<WrappedKeyRef[]> {
    const rows = await this.#query(
      `SELECT 'secret' AS kind, name AS id, wrapped_key, kek_version FROM secrets WHERE kek_version <> $1
       UNION ALL
       SELECT 'signing_key' AS kind, kid AS id, wrapped_key, kek_version FROM signing_keys WHERE kek_version <> $1
       LIMIT $2`,
      [options.notKekVersion, options.limit],
    );
    return rows.map(toWrappedKeyRef);
  }

  async rewrapKeys(updates: readonly RewrapUpdate[]): Promise<number> {
    if (updates.length === 0) return 0;
    return this.#tx(async (tx) => {
      let changed = 0;
      for (const u of updates) {
        const table = u.kind === 'secret' ? 'secrets' : 'signing_keys';
        const idColumn = u.kind === 'secret' ? 'name' : 'kid';
        const rows = await tx.query(
          `UPDATE ${table} SET wrapped_key = $1, kek_version = $2 WHERE ${idColumn} = $3 AND wrapped_key = $4 RETURNING ${idColumn}`,
          [u.wrappedKey, u.kekVersion, u.id, u.previousWrappedKey],
        );
        if (rows.length > 0) {
          changed += rows.length;
          tx.change(u.kind, u.id);
        }
      }
      return changed;
    });
  }

  async countByKekVersion(): Promise<Map<number, number>> {
    const rows = await this.#query(
      `SELECT kek_version, sum(n) AS n FROM (
         SELECT kek_version, count(*) AS n FROM secrets GROUP BY kek_version
         UNION ALL
         SELECT kek_version, count(*) AS n FROM signing_keys GROUP BY kek_version
       ) AS t GROUP BY kek_version`,
    );
    return new Map(rows.map((r) => [Number(r['kek_version']), Number(r['n'])]));
  }

  // change feed

  subscribe(listener: ChangeListener): () => void {
    return this.#hub.add(listener);
  }

  /** A dedicated connection that LISTENs; reconnects with back-off and then flushes everything. */
  async #startListener(reconnect: boolean): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url });
    const retry = (error: unknown): void => {
      this.#onError(error);
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      if (this.#listener === client) this.#listener = undefined;
      if (this.#closed || this.#reconnectTimer !== undefined) return;
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, 5000);
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        void this.#startListener(true);
      }, delay);
      this.#reconnectTimer.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new StoreError('unavailable', 'change-feed connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      try {
        const parsed = JSON.parse(msg.payload) as { k?: unknown; i?: unknown };
        if (isChangeKind(parsed.k) && typeof parsed.i === 'string')
          this.#hub.emit({ kind: parsed.k, id: parsed.i });
      } catch (error) {
        this.#onError(error);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.#closed) {
        await client.end().catch(() => {});
        return;
      }
      this.#listener = client;
      this.#backoffMs = 100;
      if (reconnect) this.#hub.emitAll();
    } catch (error) {
      retry(error);
    }
  }

  /** Resolves once the change-feed connection is listening (for tests and start-up). */
  async whenListening(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#listener === undefined) {
      if (Date.now() > deadline) throw new StoreError('unavailable', 'change feed is not connected');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#hub.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) {
      listener.removeAllListeners();
      listener.on('error', () => {});
      await listener.end().catch(() => {});
    }
    await this.#pool.end();
  }
}

function mapError(error: unknown): unknown {
  if (error instanceof StoreError || error instanceof TypeError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === '23505')
    return new StoreError('conflict', 'a record with this id or name already exists', { cause: error });
  if (code === '23503')
    return new StoreError('not_found', 'the referenced consumer does not exist', { cause: error });
  if (
    typeof code === 'string' &&
    (code.startsWith('08') ||
      code.startsWith('57P') ||
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'ENOTFOUND')
  ) {
    return new StoreError('unavailable', 'the database is unavailable', { cause: error });
  }
  return error;
}
