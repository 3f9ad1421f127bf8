import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../counters/redis-client.js';
import { HandlerTable } from './handlers.js';
import type { EventChannel, EventHandler, EventPayload } from './types.js';

/** Local-only event fired after the subscriber reconnects: events may have been missed. */
export const RESYNC_EVENT = 'events.resync';

const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Events over Redis pub/sub: one channel (`<prefix>events`), JSON messages `{ type, origin,
 * payload }`, over two connections (a subscribed connection cannot run other commands). Pub/sub is fire-and-forget: events sent while
 * a node is disconnected are lost, so after a reconnect subscribers get RESYNC_EVENT and should
 * drop what they cache.
 */
export class RedisEventChannel implements EventChannel {
  readonly kind = 'redis' as const;
  readonly nodeId = randomUUID();
  private readonly table: HandlerTable;
  private readonly channel: string;
  private readonly subscribed: Promise<unknown>;
  private wasDown = false;

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    options: { keyPrefix?: string; onError?: (context: string, error: unknown) => void } = {},
  ) {
    const onError = options.onError ?? (() => undefined);
    this.table = new HandlerTable((type, error) => onError(`handler:${type}`, error));
    this.channel = `${options.keyPrefix ?? 'portcullis:'}events`;
    this.subscriber.on('error', (error: unknown) => {
      this.wasDown = true;
      onError('subscriber', error);
    });
    this.subscriber.on('close', () => {
      this.wasDown = true;
    });
    this.subscriber.on('ready', () => {
      if (!this.wasDown) return;
      this.wasDown = false;
      this.table.dispatch(RESYNC_EVENT, {}, this.nodeId);
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel || message.length > MAX_MESSAGE_BYTES) return;
      let event: { type?: unknown; origin?: unknown; payload?: unknown };
      try {
        event = JSON.parse(message) as typeof event;
      } catch {
        return;
      }
      if (typeof event.type !== 'string' || typeof event.origin !== 'string') return;
      if (event.payload === null || typeof event.payload !== 'object') return;
      this.table.dispatch(event.type, event.payload as EventPayload, event.origin);
    });
    this.subscribed = this.subscriber
      .subscribe(this.channel)
      .catch((error: unknown) => onError('subscribe', error));
  }

  /** Resolves once the subscription is active (useful before the first publish in tests). */
  ready(): Promise<unknown> {
    return this.subscribed;
  }

  async publish(type: string, payload: EventPayload): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ type, origin: this.nodeId, payload }));
  }

  subscribe(type: string, handler: EventHandler): () => void {
    const { remove } = this.table.add(type, handler);
    return () => {
      remove();
    };
  }

  /** Closes both connections (the channel owns them). */
  async close(): Promise<void> {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}
