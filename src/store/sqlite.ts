import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChangeHub, isChangeKind } from './change-hub.js';
import { StoreError } from './errors.js';
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
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
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

/** Tries of an online backup that finds the source busy. */
const BACKUP_ATTEMPTS = 5;

export interface SqliteStoreOptions {
  /** How often the change feed polls for other processes' changes (default 200 ms). */
  readonly pollIntervalMs?: number;
  /** Milliseconds to wait for another process's write lock (default 5000). */
  readonly busyTimeoutMs?: number;
  readonly onError?: (error: unknown) => void;
}

type Row = Record<string, unknown>;

/**
 * Every better-sqlite3 connection and prepared statement this process opened, kept reachable
 * until it exits. On Node 24, a native object that the garbage collector destroys removes its
 * environment cleanup hook and asserts that an environment is current; a collection that runs
 * outside any context then aborts the process ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook, from Statement::~Statement; better-sqlite3 12 with Node 24,
 * seen here in the test suite). Kept reachable, they are destroyed by Node's own cleanup hooks
 * at exit, with the environment in place. They are few: a connection and its cached statements
 * per store opened (a statement of a closed connection is already finalized and small), and
 * nothing here prepares a statement per call.
 */
const NATIVE_OBJECTS: object[] = [];

/** Change rows older than this are pruned; a poller that slept longer assumes it missed some. */
const CHANGE_RETENTION_MS = 60_000;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, shared safely by
 * several processes. Changes by any process reach every subscriber through the `changes` table.
 */
export class SqliteStore implements CredentialStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly db: Database.Database;
  readonly #hub: ChangeHub;
  readonly #pollIntervalMs: number;
  #pollTimer: NodeJS.Timeout | undefined;
  #cursor = 0;
  #dataVersion = -1;
  #localWrite = false;
  #lastPollAt = 0;
  #writesSincePrune = 0;
  #closed = false;
  readonly #stmt = new Map<string, Database.Statement>();
  #tx: Database.Transaction<(body: () => unknown) => unknown> | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    NATIVE_OBJECTS.push(this.db);
    // exec, not pragma(): pragma() prepares a statement per call (see NATIVE_OBJECTS)
    const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
    this.db.exec(
      `PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA journal_mode = WAL; ` +
        'PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;',
    );
    this.#hub = new ChangeHub(options.onError);
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    this.#migrate();
    // Changes committed after open reach subscribers, even ones that subscribe later.
    this.#cursor = ((this.#get('SELECT max(id) AS id FROM changes') as Row)['id'] as number | null) ?? 0;
    this.#dataVersion = this.#dataVersionNow();
  }

  /** PRAGMA data_version through the statement cache (polled every pollIntervalMs). */
  #dataVersionNow(): number {
    return this.#prep('PRAGMA data_version').pluck().get() as number;
  }

  #migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    this.db
      .transaction(() => {
        const row = this.#prep('SELECT max(version) AS v FROM schema_version').get() as {
          v: number | null;
        };
        const current = row.v ?? 0;
        if (current > SQLITE_MIGRATIONS.length) {
          throw new StoreError(
            'invalid',
            `database schema version ${current} is newer than this gateway supports`,
          );
        }
        for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
          this.db.exec(SQLITE_MIGRATIONS[v] as string);
          this.#prep('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
        }
      })
      .immediate();
  }

  #prep(sql: string): Database.Statement {
    let stmt = this.#stmt.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.#stmt.set(sql, stmt);
      NATIVE_OBJECTS.push(stmt);
    }
    return stmt;
  }

  #get(sql: string, ...params: unknown[]): Row | undefined {
    return this.#prep(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: unknown[]): Row[] {
    return this.#prep(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.#prep(sql).run(...params);
  }

  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE), mapping SQLite errors to StoreError. */
  #write<T>(fn: () => T): T {
    if (this.#closed) throw new StoreError('unavailable', 'store is closed');
    try {
      this.#tx ??= this.db.transaction((body: () => unknown) => body());
      const result = this.#tx.immediate(fn) as T;
      this.#localWrite = true;
      return result;
    } catch (error) {
      throw mapError(error);
    }
  }

  #change(kind: ChangeKind, id: string): void {
    this.#run('INSERT INTO changes (kind, entity_id, created_at) VALUES (?, ?, ?)', kind, id, Date.now());
    if (++this.#writesSincePrune >= 100) {
      this.#writesSincePrune = 0;
      this.#run('DELETE FROM changes WHERE created_at < ?', Date.now() - CHANGE_RETENTION_MS);
    }
  }

  // consumers

  async createConsumer(input: NewConsumer): Promise<Consumer> {
    assertId(input.name, 'consumer name');
    const id = input.id ?? randomUUID();
    assertId(id, 'consumer id');
    return this.#write(() => {
      this.#run(
        'INSERT INTO consumers (id, name, roles, tenant, attributes, created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?)',
        id,
        input.name,
        JSON.stringify(input.roles ?? []),
        input.tenant ?? null,
        JSON.stringify(input.attributes ?? {}),
        Date.now(),
        input.disabled === true ? 1 : 0,
      );
      this.#change('consumer', id);
      return toConsumer(this.#get('SELECT * FROM consumers WHERE id = ?', id) as Row);
    });
  }

  async getConsumer(id: string): Promise<Consumer | null> {
    const row = this.#get('SELECT * FROM consumers WHERE id = ?', id);
    return row === undefined ? null : toConsumer(row);
  }

  async getConsumerByName(name: string): Promise<Consumer | null> {
    const row = this.#get('SELECT * FROM consumers WHERE name = ?', name);
    return row === undefined ? null : toConsumer(row);
  }

  async listConsumers(options: { readonly tenant?: string } = {}): Promise<Consumer[]> {
    const rows =
      options.tenant === undefined
        ? this.#all('SELECT * FROM consumers ORDER BY name')
        : this.#all('SELECT * FROM consumers WHERE tenant = ? ORDER BY name', options.tenant);
    return rows.map(toConsumer);
  }

  async updateConsumer(id: string, patch: ConsumerPatch): Promise<Consumer | null> {
    if (patch.name !== undefined) assertId(patch.name, 'consumer name');
    return this.#write(() => {
      const row = this.#get('SELECT * FROM consumers WHERE id = ?', id);
      if (row === undefined) return null;
      const cur = toConsumer(row);
      this.#run(
        'UPDATE consumers SET name = ?, roles = ?, tenant = ?, attributes = ?, disabled = ? WHERE id = ?',
        patch.name ?? cur.name,
        JSON.stringify(patch.roles ?? cur.roles),
        patch.tenant === undefined ? cur.tenant : patch.tenant,
        JSON.stringify(patch.attributes ?? cur.attributes),
        (patch.disabled ?? cur.disabled) ? 1 : 0,
        id,
      );
      this.#change('consumer', id);
      return toConsumer(this.#get('SELECT * FROM consumers WHERE id = ?', id) as Row);
    });
  }

  async deleteConsumer(id: string): Promise<boolean> {
    // One write transaction (BEGIN IMMEDIATE): no other process can add a key or client between
    // these statements, so every row removed is one announced.
    return this.#write(() => {
      if (this.#get('SELECT id FROM consumers WHERE id = ?', id) === undefined) return false;
      const keys = this.#all('DELETE FROM api_keys WHERE consumer_id = ? RETURNING lookup_id', id);
      const clients = this.#all('DELETE FROM oauth_clients WHERE consumer_id = ? RETURNING client_id', id);
      this.#run('DELETE FROM consumers WHERE id = ?', id);
      this.#change('consumer', id);
      for (const k of keys) this.#change('api_key', k['lookup_id'] as string);
      for (const c of clients) this.#change('client', c['client_id'] as string);
      return true;
    });
  }

  // API keys

  async createApiKey(input: NewApiKey): Promise<ApiKeyRecord> {
    assertId(input.lookupId, 'API key lookup id');
    return this.#write(() => {
      this.#run(
        `INSERT INTO api_keys (lookup_id, consumer_id, key_hash, scopes, allowed_cidrs, expires_at, not_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        input.lookupId,
        input.consumerId,
        input.keyHash,
        JSON.stringify(input.scopes ?? []),
        JSON.stringify(input.allowedCidrs ?? []),
        input.expiresAt ?? null,
        input.notAfter ?? null,
        Date.now(),
      );
      this.#change('api_key', input.lookupId);
      return toApiKey(this.#get('SELECT * FROM api_keys WHERE lookup_id = ?', input.lookupId) as Row);
    });
  }

  async getApiKey(lookupId: string): Promise<ApiKeyRecord | null> {
    const row = this.#get('SELECT * FROM api_keys WHERE lookup_id = ?', lookupId);
    return row === undefined ? null : toApiKey(row);
  }

  async listApiKeys(options: { readonly consumerId?: string } = {}): Promise<ApiKeyRecord[]> {
    const rows =
      options.consumerId === undefined
        ? this.#all('SELECT * FROM api_keys ORDER BY created_at, lookup_id')
        : this.#all(
            'SELECT * FROM api_keys WHERE consumer_id = ? ORDER BY created_at, lookup_id',
            options.consumerId,
          );
    return rows.map(toApiKey);
  }

  async updateApiKey(lookupId: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | null> {
    return this.#write(() => {
      const row = this.#get('SELECT * FROM api_keys WHERE lookup_id = ?', lookupId);
      if (row === undefined) return null;
      const cur = toApiKey(row);
      this.#run(
        'UPDATE api_keys SET scopes = ?, allowed_cidrs = ?, expires_at = ?, revoked_at = ?, not_after = ? WHERE lookup_id = ?',
        JSON.stringify(patch.scopes ?? cur.scopes),
        JSON.stringify(patch.allowedCidrs ?? cur.allowedCidrs),
        patch.expiresAt === undefined ? cur.expiresAt : patch.expiresAt,
        patch.revokedAt === undefined ? cur.revokedAt : patch.revokedAt,
        patch.notAfter === undefined ? cur.notAfter : patch.notAfter,
        lookupId,
      );
      this.#change('api_key', lookupId);
      return toApiKey(this.#get('SELECT * FROM api_keys WHERE lookup_id = ?', lookupId) as Row);
    });
  }

  async deleteApiKey(lookupId: string): Promise<boolean> {
    return this.#write(() => {
      const changed = this.#run('DELETE FROM api_keys WHERE lookup_id = ?', lookupId).changes > 0;
      if (changed) this.#change('api_key', lookupId);
      return changed;
    });
  }

  async touchLastUsed(lookupIds: readonly string[], at: number = Date.now()): Promise<void> {
    if (lookupIds.length === 0) return;
    this.#write(() => {
      for (const id of new Set(lookupIds)) {
        this.#run(
          'UPDATE api_keys SET last_used_at = ? WHERE lookup_id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
          at,
          id,
          at,
        );
      }
    });
  }

  // OAuth clients

  async createClient(input: NewOAuthClient): Promise<OAuthClientRecord> {
    assertId(input.clientId, 'client id');
    return this.#write(() => {
      this.#run(
        `INSERT INTO oauth_clients (client_id, consumer_id, secret_hash, jwks, allowed_scopes, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        input.clientId,
        input.consumerId,
        input.secretHash ?? null,
        input.jwks === undefined || input.jwks === null ? null : JSON.stringify(input.jwks),
        JSON.stringify(input.allowedScopes ?? []),
        Date.now(),
      );
      this.#change('client', input.clientId);
      return toClient(this.#get('SELECT * FROM oauth_clients WHERE client_id = ?', input.clientId) as Row);
    });
  }

  async getClient(clientId: string): Promise<OAuthClientRecord | null> {
    const row = this.#get('SELECT * FROM oauth_clients WHERE client_id = ?', clientId);
    return row === undefined ? null : toClient(row);
  }

  async listClients(options: { readonly consumerId?: string } = {}): Promise<OAuthClientRecord[]> {
    const rows =
      options.consumerId === undefined
        ? this.#all('SELECT * FROM oauth_clients ORDER BY client_id')
        : this.#all(
            'SELECT * FROM oauth_clients WHERE consumer_id = ? ORDER BY client_id',
            options.consumerId,
          );
    return rows.map(toClient);
  }

  async updateClient(clientId: string, patch: OAuthClientPatch): Promise<OAuthClientRecord | null> {
    return this.#write(() => {
      const row = this.#get('SELECT * FROM oauth_clients WHERE client_id = ?', clientId);
      if (row === undefined) return null;
      const cur = toClient(row);
      const jwks = patch.jwks === undefined ? cur.jwks : patch.jwks;
      this.#run(
        'UPDATE oauth_clients SET secret_hash = ?, jwks = ?, allowed_scopes = ?, revoked_at = ? WHERE client_id = ?',
        patch.secretHash === undefined ? cur.secretHash : patch.secretHash,
        jwks === null ? null : JSON.stringify(jwks),
        JSON.stringify(patch.allowedScopes ?? cur.allowedScopes),
        patch.revokedAt === undefined ? cur.revokedAt : patch.revokedAt,
        clientId,
      );
      this.#change('client', clientId);
      return toClient(this.#get('SELECT * FROM oauth_clients WHERE client_id = ?', clientId) as Row);
    });
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#write(() => {
      const changed = this.#run('DELETE FROM oauth_clients WHERE client_id = ?', clientId).changes > 0;
      if (changed) this.#change('client', clientId);
      return changed;
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
    this.#write(() => {
      this.#run(
        `INSERT INTO secrets (name, ciphertext, iv, tag, wrapped_key, kek_version, metadata, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, iv = excluded.iv, tag = excluded.tag,
           wrapped_key = excluded.wrapped_key, kek_version = excluded.kek_version, metadata = excluded.metadata,
           updated_at = excluded.updated_at`,
        name,
        envelope.ciphertext,
        envelope.iv,
        envelope.tag,
        envelope.wrappedKey,
        envelope.kekVersion,
        JSON.stringify(metadata),
        now,
        now,
      );
      this.#change('secret', name);
    });
  }

  async putSecretIfAbsent(
    name: string,
    envelope: Envelope,
    metadata: Readonly<Record<string, unknown>> = {},
  ): Promise<boolean> {
    assertId(name, 'secret name');
    const now = Date.now();
    return this.#write(() => {
      const inserted =
        this.#run(
          `INSERT INTO secrets (name, ciphertext, iv, tag, wrapped_key, kek_version, metadata, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
          name,
          envelope.ciphertext,
          envelope.iv,
          envelope.tag,
          envelope.wrappedKey,
          envelope.kekVersion,
          JSON.stringify(metadata),
          now,
          now,
        ).changes > 0;
      if (inserted) this.#change('secret', name);
      return inserted;
    });
  }

  async getSecret(name: string): Promise<SecretRecord | null> {
    const row = this.#get('SELECT * FROM secrets WHERE name = ?', name);
    return row === undefined ? null : toSecret(row);
  }

  async listSecrets(): Promise<SecretInfo[]> {
    return this.#all(
      'SELECT name, kek_version, metadata, created_at, updated_at FROM secrets ORDER BY name',
    ).map(toSecretInfo);
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.#write(() => {
      const changed = this.#run('DELETE FROM secrets WHERE name = ?', name).changes > 0;
      if (changed) this.#change('secret', name);
      return changed;
    });
  }

  // signing keys

  async createSigningKey(
    input: Omit<SigningKeyRecord, 'createdAt'> & { readonly createdAt?: number },
  ): Promise<SigningKeyRecord> {
    assertId(input.kid, 'signing key id');
    return this.#write(() => {
      const e = input.privateKey;
      this.#run(
        `INSERT INTO signing_keys (kid, alg, ciphertext, iv, tag, wrapped_key, kek_version, public_jwk, created_at, retired_at, not_after)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      );
      this.#change('signing_key', input.kid);
      return toSigningKey(this.#get('SELECT * FROM signing_keys WHERE kid = ?', input.kid) as Row);
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#all('SELECT * FROM signing_keys ORDER BY created_at, kid').map(toSigningKey);
  }

  async updateSigningKey(kid: string, patch: SigningKeyPatch): Promise<SigningKeyRecord | null> {
    return this.#write(() => {
      const row = this.#get('SELECT * FROM signing_keys WHERE kid = ?', kid);
      if (row === undefined) return null;
      const cur = toSigningKey(row);
      this.#run(
        'UPDATE signing_keys SET retired_at = ?, not_after = ? WHERE kid = ?',
        patch.retiredAt === undefined ? cur.retiredAt : patch.retiredAt,
        patch.notAfter === undefined ? cur.notAfter : patch.notAfter,
        kid,
      );
      this.#change('signing_key', kid);
      return toSigningKey(this.#get('SELECT * FROM signing_keys WHERE kid = ?', kid) as Row);
    });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#write(() => {
      const changed = this.#run('DELETE FROM signing_keys WHERE kid = ?', kid).changes > 0;
      if (changed) this.#change('signing_key', kid);
      return changed;
    });
  }

  // revoked tokens

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    assertId(jti, 'token id');
    this.#write(() => {
      this.#run(
        'INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)',
        jti,
        expiresAt,
      );
      this.#change('token', jti);
    });
  }

  async recordTokenOnce(jti: string, expiresAt: number): Promise<boolean> {
    assertId(jti, 'token id');
    return this.#write(() => {
      const inserted =
        this.#run(
          'INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING',
          jti,
          expiresAt,
        ).changes === 1;
      if (inserted) this.#change('token', jti);
      return inserted;
    });
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return this.#get('SELECT 1 AS x FROM revoked_tokens WHERE jti = ?', jti) !== undefined;
  }

  async purgeExpiredTokens(now: number = Date.now()): Promise<number> {
    return this.#write(() => this.#run('DELETE FROM revoked_tokens WHERE expires_at < ?', now).changes);
  }

  // quotas

  async incrementQuota(key: string, periodId: string, byArg: number, limitArg: number): Promise<number> {
    const { by, limit } = quotaArgs(byArg, limitArg);
    return this.#write(() => {
      const row = this.#get('SELECT count FROM quotas WHERE key = ? AND period_id = ?', key, periodId);
      const next = ((row?.['count'] as number | undefined) ?? 0) + by;
      if (next > limit) return next;
      this.#run(
        'INSERT INTO quotas (key, period_id, count) VALUES (?, ?, ?) ON CONFLICT (key, period_id) DO UPDATE SET count = excluded.count',
        key,
        periodId,
        next,
      );
      return next;
    });
  }

  async getQuota(key: string, periodId: string): Promise<number> {
    const row = this.#get('SELECT count FROM quotas WHERE key = ? AND period_id = ?', key, periodId);
    return (row?.['count'] as number | undefined) ?? 0;
  }

  async pruneQuotas(key: string, keepPeriodId: string): Promise<number> {
    return this.#write(
      () => this.#run('DELETE FROM quotas WHERE key = ? AND period_id <> ?', key, keepPeriodId).changes,
    );
  }

  // KEK bookkeeping

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    return this.#write(() => {
      this.#run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, value);
      return (this.#get('SELECT value FROM meta WHERE key = ?', key) as Row)['value'] as string;
    });
  }

  async getMeta(key: string): Promise<string | null> {
    const row = this.#get('SELECT value FROM meta WHERE key = ?', key);
    return row === undefined ? null : (row['value'] as string);
  }

  async listWrappedKeys(options: {
    readonly notKekVersion: number;
    readonly limit: number;
  }): Promise<WrappedKeyRef[]> {
    return this.#all(
      `SELECT 'secret' AS kind, name AS id, wrapped_key, kek_version FROM secrets WHERE kek_version <> ?
       UNION ALL
       SELECT 'signing_key' AS kind, kid AS id, wrapped_key, kek_version FROM signing_keys WHERE kek_version <> ?
       LIMIT ?`,
      options.notKekVersion,
      options.notKekVersion,
      options.limit,
    ).map(toWrappedKeyRef);
  }

  async rewrapKeys(updates: readonly RewrapUpdate[]): Promise<number> {
    if (updates.length === 0) return 0;
    return this.#write(() => {
      let changed = 0;
      for (const u of updates) {
        const table = u.kind === 'secret' ? 'secrets' : 'signing_keys';
        const idColumn = u.kind === 'secret' ? 'name' : 'kid';
        const n = this.#run(
          `UPDATE ${table} SET wrapped_key = ?, kek_version = ? WHERE ${idColumn} = ? AND wrapped_key = ?`,
          u.wrappedKey,
          u.kekVersion,
          u.id,
          u.previousWrappedKey,
        ).changes;
        if (n > 0) {
          changed += n;
          this.#change(u.kind, u.id);
        }
      }
      return changed;
    });
  }

  async countByKekVersion(): Promise<Map<number, number>> {
    const rows = this.#all(
      `SELECT kek_version, sum(n) AS n FROM (
         SELECT kek_version, count(*) AS n FROM secrets GROUP BY kek_version
         UNION ALL
         SELECT kek_version, count(*) AS n FROM signing_keys GROUP BY kek_version
       ) GROUP BY kek_version`,
    );
    return new Map(rows.map((r) => [r['kek_version'] as number, r['n'] as number]));
  }

  // change feed

  subscribe(listener: ChangeListener): () => void {
    const unsubscribe = this.#hub.add(listener);
    if (this.#pollTimer === undefined && !this.#closed) {
      this.#lastPollAt = Date.now();
      this.#localWrite = true;
      this.#pollTimer = setInterval(() => this.#poll(), this.#pollIntervalMs);
      this.#pollTimer.unref();
    }
    return () => {
      unsubscribe();
      if (this.#hub.size === 0 && this.#pollTimer !== undefined) {
        clearInterval(this.#pollTimer);
        this.#pollTimer = undefined;
      }
    };
  }

  #poll(): void {
    if (this.#closed) return;
    try {
      const now = Date.now();
      const slept = now - this.#lastPollAt > CHANGE_RETENTION_MS / 2;
      this.#lastPollAt = now;
      // data_version moves only when another connection commits; our own writes set #localWrite.
      const version = this.#dataVersionNow();
      if (version === this.#dataVersion && !this.#localWrite && !slept) return;
      this.#dataVersion = version;
      this.#localWrite = false;
      const rows = this.#all(
        'SELECT id, kind, entity_id FROM changes WHERE id > ? ORDER BY id LIMIT 10000',
        this.#cursor,
      );
      if (slept) this.#hub.emitAll();
      for (const row of rows) {
        this.#cursor = row['id'] as number;
        const kind = row['kind'];
        if (isChangeKind(kind)) this.#hub.emit({ kind, id: row['entity_id'] as string });
      }
    } catch {
      // SQLITE_BUSY and friends: try again on the next tick.
    }
  }

  /**
   * A consistent online copy of the database: `VACUUM INTO` reads the whole store in one read
   * transaction (WAL: writers go on meanwhile, and never restart it) and writes a compacted
   * copy. better-sqlite3's backup API copied page ranges in steps and was restarted by writes
   * between them (seen in test/store/sqlite-processes.test.ts), and it leaves a native Backup
   * object to the garbage collector (see NATIVE_OBJECTS). Another process's writes can hold
   * the source busy past the busy timeout (seen under heavy load); the copy then starts again,
   * a few times, rather than fail. The destination must not exist. `store backup` runs in its
   * own process, so the one long statement blocks nobody.
   */
  async backup(destination: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.#prep('VACUUM INTO ?').run(destination);
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code !== 'string' || !/^SQLITE_(BUSY|LOCKED)/.test(code) || attempt >= BACKUP_ATTEMPTS)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#hub.clear();
    this.db.close();
  }
}

function mapError(error: unknown): unknown {
  if (error instanceof StoreError || error instanceof TypeError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new StoreError('conflict', 'a record with this id or name already exists', { cause: error });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new StoreError('not_found', 'the referenced consumer does not exist', { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code.startsWith('SQLITE_IOERR')) {
    return new StoreError('unavailable', 'the store is busy or unavailable', { cause: error });
  }
  return error;
}
