import { randomBytes } from 'node:crypto';
import type {
  ApiKeyRecord,
  Consumer,
  CredentialStore,
  NewConsumer,
  OAuthClientRecord,
} from '../store/types.js';
import { StoreError } from '../store/errors.js';
import { generateApiKey, isLookupId } from './api-key-format.js';
import { base62Width, toBase62 } from './base62.js';
import { compileSourceCidrs } from './source-cidrs.js';
import { checkPublicJwks } from './public-jwks.js';

/**
 * Management of consumers, API keys and OAuth clients, shared by the CLI and the admin API.
 * Secrets are returned exactly once, by the call that creates them; views never carry hashes.
 */
export interface ApiKeyView {
  readonly lookupId: string;
  readonly consumerId: string;
  readonly status: 'active' | 'revoked' | 'expired' | 'rotated_out';
  readonly scopes: readonly string[];
  readonly allowedCidrs: readonly string[];
  readonly expiresAt: string | null;
  readonly notAfter: string | null;
  readonly revokedAt: string | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export interface ClientView {
  readonly clientId: string;
  readonly consumerId: string;
  readonly authMethod: 'client_secret' | 'private_key_jwt';
  readonly allowedScopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly revokedAt: string | null;
  readonly createdAt: string;
}

export interface ConsumerView {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly tenant: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly disabled: boolean;
  readonly createdAt: string;
}

/** A caller mistake (unknown consumer, bad CIDR, ...): the admin API answers 400/404/409. */
export class CredentialAdminError extends Error {
  constructor(
    readonly code: 'invalid' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'CredentialAdminError';
  }
}

export interface IssueKeyOptions {
  readonly scopes?: readonly string[];
  readonly allowedCidrs?: readonly string[];
  /** Absolute expiry (ms since epoch). */
  readonly expiresAt?: number | null;
}

export interface CredentialAdminOptions {
  /** HMAC-SHA-256 with the server pepper: how keys and client secrets are stored. */
  readonly hash: (secret: string) => Buffer;
  readonly prefix: string;
  readonly now?: () => number;
}

const DEFAULT_OVERLAP_MS = 24 * 3600 * 1000;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const SCOPE_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

export class CredentialAdmin {
  private readonly now: () => number;

  constructor(
    readonly store: CredentialStore,
    private readonly options: CredentialAdminOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  // consumers

  async createConsumer(input: NewConsumer): Promise<ConsumerView> {
    if (!NAME_PATTERN.test(input.name))
      throw new CredentialAdminError('invalid', 'name: 1-128 of A-Z a-z 0-9 . _ @ -');
    for (const role of input.roles ?? []) checkToken('role', role);
    return consumerView(await mapStoreErrors(() => this.store.createConsumer(input)));
  }

  async listConsumers(tenant?: string): Promise<ConsumerView[]> {
    const list = await this.store.listConsumers(tenant === undefined ? {} : { tenant });
    return list.map(consumerView);
  }

  /** By id or by name. */
  async findConsumer(idOrName: string): Promise<Consumer> {
    const consumer =
      (await this.store.getConsumer(idOrName)) ?? (await this.store.getConsumerByName(idOrName));
    if (consumer === null) throw new CredentialAdminError('not_found', `no consumer ${idOrName}`);
    return consumer;
  }

  async showConsumer(
    idOrName: string,
  ): Promise<{ consumer: ConsumerView; keys: ApiKeyView[]; clients: ClientView[] }> {
    const consumer = await this.findConsumer(idOrName);
    return {
      consumer: consumerView(consumer),
      keys: await this.listKeys(consumer.id),
      clients: await this.listClients(consumer.id),
    };
  }

  async setConsumerDisabled(idOrName: string, disabled: boolean): Promise<ConsumerView> {
    const consumer = await this.findConsumer(idOrName);
    const updated = await this.store.updateConsumer(consumer.id, { disabled });
    if (updated === null) throw new CredentialAdminError('not_found', `no consumer ${idOrName}`);
    return consumerView(updated);
  }

  // API keys

  /** Creates a key for a consumer; the returned `key` is the only time it is ever visible. */
  async createKey(
    consumerIdOrName: string,
    options: IssueKeyOptions = {},
  ): Promise<{ key: string; record: ApiKeyView }> {
    const consumer = await this.findConsumer(consumerIdOrName);
    const scopes = [...(options.scopes ?? [])];
    for (const scope of scopes) checkToken('scope', scope);
    const allowedCidrs = [...(options.allowedCidrs ?? [])];
    try {
      compileSourceCidrs(allowedCidrs);
    } catch (error) {
      throw new CredentialAdminError('invalid', (error as Error).message);
    }
    if (options.expiresAt != null && options.expiresAt <= this.now()) {
      throw new CredentialAdminError('invalid', 'expiresAt is in the past');
    }
    const { key, lookupId } = generateApiKey(this.options.prefix);
    const record = await mapStoreErrors(() =>
      this.store.createApiKey({
        lookupId,
        consumerId: consumer.id,
        keyHash: this.options.hash(key),
        scopes,
        allowedCidrs,
        expiresAt: options.expiresAt ?? null,
      }),
    );
    return { key, record: this.keyView(record) };
  }

  async listKeys(consumerIdOrName?: string): Promise<ApiKeyView[]> {
    const consumerId =
      consumerIdOrName === undefined ? undefined : (await this.findConsumer(consumerIdOrName)).id;
    const list = await this.store.listApiKeys(consumerId === undefined ? {} : { consumerId });
    return list.map((record) => this.keyView(record));
  }

  async getKey(lookupId: string): Promise<ApiKeyRecord> {
    const record = isLookupId(lookupId) ? await this.store.getApiKey(lookupId) : null;
    if (record === null) throw new CredentialAdminError('not_found', `no API key ${lookupId}`);
    return record;
  }

  /**
   * Issues a successor with the same consumer, scopes, CIDRs and expiry; the old key keeps working
   * until now + `overlapMs` (0: stops at once).
   */
  async rotateKey(
    lookupId: string,
    overlapMs = DEFAULT_OVERLAP_MS,
  ): Promise<{ key: string; record: ApiKeyView; previous: ApiKeyView }> {
    if (!Number.isFinite(overlapMs) || overlapMs < 0)
      throw new CredentialAdminError('invalid', 'overlap must be >= 0');
    const old = await this.getKey(lookupId);
    const status = keyStatus(old, this.now());
    if (status !== 'active') throw new CredentialAdminError('conflict', `API key ${lookupId} is ${status}`);
    const created = await this.createKey(old.consumerId, {
      scopes: old.scopes,
      allowedCidrs: old.allowedCidrs,
      expiresAt: old.expiresAt,
    });
    const notAfter = Math.min(this.now() + overlapMs, old.notAfter ?? Number.POSITIVE_INFINITY);
    const previous = await this.store.updateApiKey(lookupId, { notAfter });
    if (previous === null) throw new CredentialAdminError('not_found', `no API key ${lookupId}`);
    return { ...created, previous: this.keyView(previous) };
  }

  async revokeKey(lookupId: string): Promise<ApiKeyView> {
    const old = await this.getKey(lookupId);
    if (old.revokedAt !== null) return this.keyView(old);
    const updated = await this.store.updateApiKey(lookupId, { revokedAt: this.now() });
    if (updated === null) throw new CredentialAdminError('not_found', `no API key ${lookupId}`);
    return this.keyView(updated);
  }

  keyView(record: ApiKeyRecord): ApiKeyView {
    return {
      lookupId: record.lookupId,
      consumerId: record.consumerId,
      status: keyStatus(record, this.now()),
      scopes: record.scopes,
      allowedCidrs: record.allowedCidrs,
      expiresAt: iso(record.expiresAt),
      notAfter: iso(record.notAfter),
      revokedAt: iso(record.revokedAt),
      createdAt: iso(record.createdAt) ?? '',
      lastUsedAt: iso(record.lastUsedAt),
    };
  }

  // OAuth clients

  /**
   * Creates an OAuth client. Without `jwks` a client secret is generated and returned once
   * (client_secret_basic / client_secret_post); with `jwks` (a public JWK or JWK Set) the client
   * authenticates with private_key_jwt and has no secret.
   */
  async createClient(
    consumerIdOrName: string,
    options: { readonly allowedScopes?: readonly string[]; readonly jwks?: unknown } = {},
  ): Promise<{ clientId: string; clientSecret?: string; record: ClientView }> {
    const consumer = await this.findConsumer(consumerIdOrName);
    const allowedScopes = [...(options.allowedScopes ?? [])];
    for (const scope of allowedScopes) checkToken('scope', scope);
    const clientId = `${this.options.prefix}c_${toBase62(randomBytes(12), base62Width(12))}`;
    if (options.jwks !== undefined) {
      let jwks: Record<string, unknown>;
      try {
        jwks = checkPublicJwks(options.jwks);
      } catch (error) {
        throw new CredentialAdminError('invalid', (error as Error).message);
      }
      const record = await mapStoreErrors(() =>
        this.store.createClient({ clientId, consumerId: consumer.id, jwks, secretHash: null, allowedScopes }),
      );
      return { clientId, record: clientView(record) };
    }
    const clientSecret = toBase62(randomBytes(32), base62Width(32));
    const record = await mapStoreErrors(() =>
      this.store.createClient({
        clientId,
        consumerId: consumer.id,
        secretHash: this.options.hash(clientSecret),
        jwks: null,
        allowedScopes,
      }),
    );
    return { clientId, clientSecret, record: clientView(record) };
  }

  async listClients(consumerIdOrName?: string): Promise<ClientView[]> {
    const consumerId =
      consumerIdOrName === undefined ? undefined : (await this.findConsumer(consumerIdOrName)).id;
    const list = await this.store.listClients(consumerId === undefined ? {} : { consumerId });
    return list.map(clientView);
  }

  async getClient(clientId: string): Promise<ClientView> {
    const record = await this.store.getClient(clientId);
    if (record === null) throw new CredentialAdminError('not_found', `no client ${clientId}`);
    return clientView(record);
  }

  async revokeClient(clientId: string): Promise<ClientView> {
    const record = await this.store.getClient(clientId);
    if (record === null) throw new CredentialAdminError('not_found', `no client ${clientId}`);
    if (record.revokedAt !== null) return clientView(record);
    const updated = await this.store.updateClient(clientId, { revokedAt: this.now() });
    if (updated === null) throw new CredentialAdminError('not_found', `no client ${clientId}`);
    return clientView(updated);
  }
}

export function keyStatus(record: ApiKeyRecord, now: number): ApiKeyView['status'] {
  if (record.revokedAt !== null && record.revokedAt <= now) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired';
  if (record.notAfter !== null && record.notAfter <= now) return 'rotated_out';
  return 'active';
}

export function consumerView(consumer: Consumer): ConsumerView {
  return {
    id: consumer.id,
    name: consumer.name,
    roles: consumer.roles,
    tenant: consumer.tenant,
    attributes: consumer.attributes,
    disabled: consumer.disabled,
    createdAt: iso(consumer.createdAt) ?? '',
  };
}

export function clientView(record: OAuthClientRecord): ClientView {
  return {
    clientId: record.clientId,
    consumerId: record.consumerId,
    authMethod: record.secretHash === null ? 'private_key_jwt' : 'client_secret',
    allowedScopes: record.allowedScopes,
    status: record.revokedAt === null ? 'active' : 'revoked',
    revokedAt: iso(record.revokedAt),
    createdAt: iso(record.createdAt) ?? '',
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function checkToken(what: string, value: string): void {
  if (!SCOPE_PATTERN.test(value))
    throw new CredentialAdminError(
      'invalid',
      `${what} must be 1-128 visible characters without spaces, quotes or backslashes`,
    );
}

async function mapStoreErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StoreError && error.code !== 'unavailable') {
      throw new CredentialAdminError(
        error.code === 'not_found' ? 'not_found' : error.code === 'conflict' ? 'conflict' : 'invalid',
        error.message,
      );
    }
    throw error;
  }
}
