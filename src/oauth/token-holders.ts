import { LRUCache } from 'lru-cache';
import { AuthenticationFailure } from '../authn/authenticator.js';
import { ConsumerCache } from '../authn/consumer-cache.js';
import type { Identity } from '../pipeline/identity.js';
import type { CredentialStore } from '../store/types.js';

type HolderStore = Pick<CredentialStore, 'getConsumer' | 'getConsumerByName' | 'getClient' | 'subscribe'>;

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
  readonly #consumers: ConsumerCache;
  readonly #clients = new LRUCache<string, Standing>(CACHE);
  readonly #unsubscribe: () => void;

  constructor(private readonly store: HolderStore) {
    this.#consumers = new ConsumerCache(store);
    this.#unsubscribe = store.subscribe((event) => {
      if (event.kind !== 'client') return;
      if (event.id === '*') this.#clients.clear();
      else this.#clients.delete(event.id);
    });
  }

  /** The identity when its consumer and client (when named) are still in good standing. */
  check(identity: Identity): Identity | Promise<Identity> {
    const consumerId = identity.consumerId;
    const clientId = identity.attributes['clientId'];
    let consumer: Standing | undefined = LIVE;
    if (consumerId !== undefined) {
      const known = this.#consumers.cached({ id: consumerId });
      consumer = known === undefined ? undefined : consumerStanding(known);
    }
    const client = typeof clientId !== 'string' ? LIVE : this.#clients.get(clientId);
    if (consumer !== undefined && client !== undefined) return accept(identity, consumer, client);
    return Promise.all([
      consumer ?? this.#consumers.load({ id: consumerId as string }).then(consumerStanding),
      client ?? this.#loadClient(clientId as string),
    ]).then(([c, k]) => accept(identity, c, k));
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
    this.#consumers.close();
  }
}

/** A consumer's standing: gone, disabled, or live. */
function consumerStanding(consumer: { readonly disabled: boolean } | null): Standing {
  if (consumer === null) return { live: false, reason: 'jwt_consumer_missing' };
  return consumer.disabled ? { live: false, reason: 'jwt_consumer_disabled' } : LIVE;
}

function accept(identity: Identity, consumer: Standing, client: Standing): Identity {
  if (!consumer.live) throw new AuthenticationFailure(consumer.reason);
  if (!client.live) throw new AuthenticationFailure(client.reason);
  return identity;
}
