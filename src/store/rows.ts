import type {
  ApiKeyRecord,
  Consumer,
  OAuthClientRecord,
  SecretInfo,
  SecretRecord,
  SigningKeyRecord,
} from './types.js';

/** Maps database rows (SQLite or PostgreSQL, snake_case) to store records. */
type Row = Record<string, unknown>;

/** JSON columns: TEXT in SQLite, JSONB (already parsed) in PostgreSQL. */
function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** Integer columns: numbers in SQLite, BIGINT strings in PostgreSQL. */
function int(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function intOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : int(value);
}

function buf(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
}

export function toConsumer(row: Row): Consumer {
  return {
    id: row['id'] as string,
    name: row['name'] as string,
    roles: json<string[]>(row['roles']),
    tenant: (row['tenant'] as string | null) ?? null,
    attributes: json<Record<string, unknown>>(row['attributes']),
    createdAt: int(row['created_at']),
    disabled: row['disabled'] === true || row['disabled'] === 1,
  };
}

export function toApiKey(row: Row): ApiKeyRecord {
  return {
    lookupId: row['lookup_id'] as string,
    consumerId: row['consumer_id'] as string,
    keyHash: buf(row['key_hash']),
    scopes: json<string[]>(row['scopes']),
    allowedCidrs: json<string[]>(row['allowed_cidrs']),
    expiresAt: intOrNull(row['expires_at']),
    revokedAt: intOrNull(row['revoked_at']),
    notAfter: intOrNull(row['not_after']),
    createdAt: int(row['created_at']),
    lastUsedAt: intOrNull(row['last_used_at']),
  };
}

export function toClient(row: Row): OAuthClientRecord {
  return {
    clientId: row['client_id'] as string,
    consumerId: row['consumer_id'] as string,
    secretHash:
      row['secret_hash'] === null || row['secret_hash'] === undefined ? null : buf(row['secret_hash']),
    jwks:
      row['jwks'] === null || row['jwks'] === undefined ? null : json<Record<string, unknown>>(row['jwks']),
    allowedScopes: json<string[]>(row['allowed_scopes']),
    revokedAt: intOrNull(row['revoked_at']),
    createdAt: int(row['created_at']),
  };
}

function toEnvelope(row: Row): SecretRecord['envelope'] {
  return {
    ciphertext: buf(row['ciphertext']),
    iv: buf(row['iv']),
    tag: buf(row['tag']),
    wrappedKey: buf(row['wrapped_key']),
    kekVersion: int(row['kek_version']),
  };
}

export function toSecret(row: Row): SecretRecord {
  return {
    name: row['name'] as string,
    envelope: toEnvelope(row),
    metadata: json<Record<string, unknown>>(row['metadata']),
    createdAt: int(row['created_at']),
    updatedAt: int(row['updated_at']),
  };
}

export function toSecretInfo(row: Row): SecretInfo {
  return {
    name: row['name'] as string,
    kekVersion: int(row['kek_version']),
    metadata: json<Record<string, unknown>>(row['metadata']),
    createdAt: int(row['created_at']),
    updatedAt: int(row['updated_at']),
  };
}

export function toSigningKey(row: Row): SigningKeyRecord {
  return {
    kid: row['kid'] as string,
    alg: row['alg'] as SigningKeyRecord['alg'],
    privateKey: toEnvelope(row),
    publicJwk: json<Record<string, unknown>>(row['public_jwk']),
    createdAt: int(row['created_at']),
    retiredAt: intOrNull(row['retired_at']),
    notAfter: intOrNull(row['not_after']),
  };
}

export function toWrappedKeyRef(row: Row): {
  kind: 'secret' | 'signing_key';
  id: string;
  wrappedKey: Buffer;
  kekVersion: number;
} {
  return {
    kind: row['kind'] as 'secret' | 'signing_key',
    id: row['id'] as string,
    wrappedKey: buf(row['wrapped_key']),
    kekVersion: int(row['kek_version']),
  };
}

/** Checks ids and names are non-empty strings without control characters. */
export function assertId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || hasControlChar(value)) {
    throw new TypeError(
      `${what} must be a non-empty string of at most 256 characters without control characters`,
    );
  }
}

function hasControlChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Validates quota arguments the same way in every store; an infinite limit means no limit. */
export function quotaArgs(by: number, limit: number): { by: number; limit: number } {
  if (!Number.isSafeInteger(by) || by < 0)
    throw new TypeError('quota increment must be a non-negative integer');
  if (limit === Number.POSITIVE_INFINITY) return { by, limit: Number.MAX_SAFE_INTEGER };
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new TypeError('quota limit must be a non-negative integer');
  return { by, limit };
}
