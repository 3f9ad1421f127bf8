import { LRUCache } from 'lru-cache';
import type { Identity } from '../pipeline/identity.js';
import type { ApiKeyRecord, ChangeEvent, Consumer, CredentialStore } from '../store/types.js';
import { compileSourceCidrs, type SourceAllowList } from './source-cidrs.js';

/** One API key as the hot path needs it: record, owner and the identity it yields, compiled once. */
export interface ApiKeyEntry {
  readonly record: ApiKeyRecord;
  readonly consumer: Consumer | null;
  /** Undefined when the key has no source restriction. */
  readonly sources: SourceAllowList | undefined;
  readonly identity: Identity;
  /**
   * Earliest of revocation, expiry and rotation end (ms since epoch), `Infinity` when none: one
   * comparison per request tells whether any of them needs looking at.
   */
  readonly deadline: number;
}

const MISSING = Symbol('missing');
type Cached = ApiKeyEntry | typeof MISSING;

export interface ApiKeyDirectoryOptions {
  readonly max: number;
  /** Backstop TTL in case a change event is lost; the change feed is what makes revocation fast. */
  readonly ttlMs?: number;
  /** Unknown look-up ids are remembered this long (creation events clear them earlier). */
  readonly missingTtlMs?: number;
}

/**
 * Bounded in-memory cache of API-key records in front of the credential store. Entries are
 * dropped when the store's change feed reports the key or its consumer changed, so a revocation
 * made on any node takes effect here within the feed's latency (about 1 s).
 */
export class ApiKeyDirectory {
  private readonly cache: LRUCache<string, Cached>;
  private readonly pending = new Map<string, Promise<ApiKeyEntry | undefined>>();
  private readonly missingTtlMs: number;
  /** Bumped on every invalidation: a look-up that started before one must not fill the cache. */
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: CredentialStore,
    options: ApiKeyDirectoryOptions,
  ) {
    this.cache = new LRUCache<string, Cached>({ max: options.max, ttl: options.ttlMs ?? 300_000 });
    this.missingTtlMs = options.missingTtlMs ?? 10_000;
    this.unsubscribe = store.subscribe((event) => this.onChange(event));
  }

  /** Sync when cached (the common case), otherwise one store round trip (concurrent callers share it). */
  get(lookupId: string): ApiKeyEntry | undefined | Promise<ApiKeyEntry | undefined> {
    const cached = this.cache.get(lookupId);
    if (cached === MISSING) return undefined;
    if (cached !== undefined) return cached;
    let pending = this.pending.get(lookupId);
    if (pending === undefined) {
      pending = this.load(lookupId).finally(() => this.pending.delete(lookupId));
      this.pending.set(lookupId, pending);
    }
    return pending;
  }

  /**
   * The cached entry for `lookupId`, or undefined: never a store trip, so it may be given ids
   * taken from unchecked input (the fast path of already-verified keys).
   */
  cached(lookupId: string): ApiKeyEntry | undefined {
    const cached = this.cache.get(lookupId);
    return cached === MISSING ? undefined : cached;
  }

  private async load(lookupId: string): Promise<ApiKeyEntry | undefined> {
    const generation = this.generation;
    const record = await this.store.getApiKey(lookupId);
    const consumer = record === null ? null : await this.store.getConsumer(record.consumerId);
    const entry = record === null ? undefined : compileEntry(record, consumer);
    if (generation === this.generation) {
      if (entry === undefined) this.cache.set(lookupId, MISSING, { ttl: this.missingTtlMs });
      else this.cache.set(lookupId, entry);
    }
    return entry;
  }

  private onChange(event: ChangeEvent): void {
    if ((event.kind === 'api_key' || event.kind === 'consumer') && event.id === '*') {
      // The feed was interrupted: anything may have changed.
      this.generation++;
      this.cache.clear();
      this.pending.clear();
    } else if (event.kind === 'api_key') {
      this.generation++;
      this.cache.delete(event.id);
      this.pending.delete(event.id);
    } else if (event.kind === 'consumer') {
      this.generation++;
      for (const [lookupId, entry] of this.cache.entries()) {
        if (entry !== MISSING && entry.record.consumerId === event.id) this.cache.delete(lookupId);
      }
    }
  }

  get size(): number {
    return this.cache.size;
  }

  close(): void {
    this.unsubscribe();
    this.cache.clear();
  }
}

export function compileEntry(record: ApiKeyRecord, consumer: Consumer | null): ApiKeyEntry {
  let sources: SourceAllowList | undefined;
  try {
    sources = record.allowedCidrs.length === 0 ? undefined : compileSourceCidrs(record.allowedCidrs);
  } catch {
    // A corrupt restriction must never widen access: allow no address at all.
    sources = { allows: () => false };
  }
  const expiries = [record.expiresAt, record.notAfter].filter((value): value is number => value !== null);
  const identity: Identity = Object.freeze({
    consumerId: record.consumerId,
    subject: consumer?.name ?? record.consumerId,
    method: 'api_key',
    credentialId: record.lookupId,
    roles: Object.freeze([...(consumer?.roles ?? [])]),
    scopes: Object.freeze([...record.scopes]),
    ...(consumer?.tenant != null ? { tenant: consumer.tenant } : {}),
    attributes: Object.freeze({ ...(consumer?.attributes ?? {}) }),
    ...(expiries.length > 0 ? { expiresAt: Math.min(...expiries) } : {}),
  });
  const limits = [record.revokedAt, ...expiries].filter((value): value is number => value !== null);
  const deadline = limits.length > 0 ? Math.min(...limits) : Number.POSITIVE_INFINITY;
  return { record, consumer, sources, identity, deadline };
}
