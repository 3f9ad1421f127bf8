import { LRUCache } from 'lru-cache';
import type { Consumer, CredentialStore } from '../store/types.js';

/**
 * Consumers by id or name (certificate mappings, the built-in issuer's tokens), cached per
 * process and dropped on any consumer change reported by the store's change feed (any node, ~1 s).
 */
export class ConsumerCache {
  readonly #cache = new LRUCache<string, { consumer: Consumer | null }>({ max: 10_000, ttl: 60_000 });
  readonly #unsubscribe: () => void;

  constructor(
    private readonly store: Pick<CredentialStore, 'getConsumer' | 'getConsumerByName' | 'subscribe'>,
  ) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.kind === 'consumer') this.#cache.clear();
    });
  }

  /** The consumer, null when it does not exist; undefined when not cached yet (call `load`). */
  cached(ref: ConsumerRef): Consumer | null | undefined {
    return this.#cache.get(keyOf(ref))?.consumer;
  }

  async load(ref: ConsumerRef): Promise<Consumer | null> {
    const consumer =
      ref.id !== undefined
        ? await this.store.getConsumer(ref.id)
        : await this.store.getConsumerByName(ref.name ?? '');
    this.#cache.set(keyOf(ref), { consumer });
    return consumer;
  }

  close(): void {
    this.#unsubscribe();
  }
}

export interface ConsumerRef {
  readonly id?: string;
  readonly name?: string;
}

const keyOf = (ref: ConsumerRef): string =>
  ref.id !== undefined ? `id:${ref.id}` : `name:${ref.name ?? ''}`;
