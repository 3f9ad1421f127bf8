/** Versioned SQLite schema. Append new entries; never edit an applied one. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE consumers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    tenant TEXT,
    attributes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE api_keys (
    lookup_id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
    key_hash BLOB NOT NULL,
    scopes TEXT NOT NULL,
    allowed_cidrs TEXT NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    not_after INTEGER,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX api_keys_consumer ON api_keys(consumer_id);
  CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
    secret_hash BLOB,
    jwks TEXT,
    allowed_scopes TEXT NOT NULL,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX oauth_clients_consumer ON oauth_clients(consumer_id);
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    ciphertext BLOB NOT NULL,
    iv BLOB NOT NULL,
    tag BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    kek_version INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX secrets_kek_version ON secrets(kek_version);
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    iv BLOB NOT NULL,
    tag BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    kek_version INTEGER NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    not_after INTEGER
  );
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE quotas (
    key TEXT NOT NULL,
    period_id TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, period_id)
  );
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX changes_created ON changes(created_at);
  `,
];
