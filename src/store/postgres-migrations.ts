/** Versioned PostgreSQL schema. Append new entries; never edit an applied one. */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE consumers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    roles JSONB NOT NULL,
    tenant TEXT,
    attributes JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT false
  );
  CREATE TABLE api_keys (
    lookup_id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
    key_hash BYTEA NOT NULL,
    scopes JSONB NOT NULL,
    allowed_cidrs JSONB NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    not_after BIGINT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
  );
  CREATE INDEX api_keys_consumer ON api_keys(consumer_id);
  CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
    secret_hash BYTEA,
    jwks JSONB,
    allowed_scopes JSONB NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX oauth_clients_consumer ON oauth_clients(consumer_id);
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    ciphertext BYTEA NOT NULL,
    iv BYTEA NOT NULL,
    tag BYTEA NOT NULL,
    wrapped_key BYTEA NOT NULL,
    kek_version INTEGER NOT NULL,
    metadata JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX secrets_kek_version ON secrets(kek_version);
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    ciphertext BYTEA NOT NULL,
    iv BYTEA NOT NULL,
    tag BYTEA NOT NULL,
    wrapped_key BYTEA NOT NULL,
    kek_version INTEGER NOT NULL,
    public_jwk JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    not_after BIGINT
  );
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
  );
  CREATE TABLE quotas (
    key TEXT NOT NULL,
    period_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, period_id)
  );
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];
