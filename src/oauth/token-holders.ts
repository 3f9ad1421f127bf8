import { LRUCache } from 'lru-cache';
import { AuthenticationFailure } from '../authn/authenticator.js';
import type { Identity } from '../pipeline/identity.js';
import type { CredentialStore } from '../store/types.js';

type HolderStore = Pick<CredentialStore, 'getConsumer' | 'getClient' | 'subscribe'>;

/** What the check needs of a record: whether it still exists and may act. */
interface Standing {
  readonly live: boolean;
  readonly reason: string;
}

const LIVE: Standing = { live: true, reason: '' };
const CACHE = { max: 10_000, ttl: 60_000 } as const;

/**
 * The consumers and OAuth clients behind the built-in authorization server's tokens, cached per
 * process and dropped on the store's change feed (any node, within about a second). A token
 * outlives neither: once its consumer is disabled or deleted, or its client revoked or deleted,
 * it is refused, even when its verification is cached.
 */
export class TokenHolders {
  readonly #consumers = new LRUCache<string, Standing>(CACHE);
  readonly #clients = new LRUCache<string, Standing>(CACHE);
  readonly #unsubscribe: () => void;

  constructor(private readonly store: HolderStore) {
    this.#unsubscribe = store.subscribe((event) => {
      const cache =
        event.kind === 'consumer' ? this.#consumers : event.kind === 'client' ? this.#clients : undefined;
      if (cache === undefined) return;
      if (event.id === '*') cache.clear();
      else cache.delete(event.id);
    });
  }

  /** The identity when its consumer and client (when named) are still in good standing. */
  check(identity: Identity): Identity | Promise<Identity> {
    const consumerId = identity.consumerId;
    const clientId = identity.attributes['clientId'];
    const consumer = consumerId === undefined ? LIVE : this.#consumers.get(consumerId);
    const client = typeof clientId !== 'string' ? LIVE : this.#clients.get(clientId);
    if (consumer !== undefined && client !== undefined) return accept(identity, consumer, client);
    return Promise.all([
      consumer ?? this.#loadConsumer(consumerId as string),
      client ?? this.#loadClient(clientId as string),
    ]).then(([c, k]) => accept(identity, c, k));
  }

  async #loadConsumer(id: string): Promise<Standing> {
    const consumer = await this.store.getConsumer(id);
    const standing =
      consumer === null
        ? { live: false, reason: 'jwt_consumer_missing' }
        : consumer.disabled
          ? { live: false, reason: 'jwt_consumer_disabled' }
          : LIVE;
    this.#consumers.set(id, standing);
    return standing;
  }

  async #loadClient(id: string): Promise<Standing> {
    const client = await this.store.getClient(id);
    const now = Date.now();
    if (client === null) return this.#remember(id, { live: false, reason: 'jwt_client_missing' });
    if (client.revokedAt === null) return this.#remember(id, LIVE);
    if (client.revokedAt <= now) return this.#remember(id, { live: false, reason: 'jwt_client_revoked' });
    // revoked at a set time: good until then
    return this.#remember(id, LIVE, Math.min(CACHE.ttl, client.revokedAt - now));
  }

  #remember(id: string, standing: Standing, ttl: number = CACHE.ttl): Standing {
    this.#clients.set(id, standing, { ttl });
    return standing;
  }

  close(): void {
    this.#unsubscribe();
  }
}

function accept(identity: Identity, consumer: Standing, client: Standing): Identity {
  if (!consumer.live) throw new AuthenticationFailure(consumer.reason);
  if (!client.live) throw new AuthenticationFailure(client.reason);
  return identity;
}
