/**
 * Gateway events shared between nodes: a credential revoked, the config reloaded, a cache entry
 * to drop. Payloads are small JSON objects and never carry secrets.
 */
export type GatewayEventType = 'credential.revoked' | 'config.reloaded' | 'cache.invalidate' | (string & {});

export type EventPayload = Readonly<Record<string, unknown>>;

export type EventHandler = (payload: EventPayload, meta: { readonly origin: string }) => void;

export interface EventChannel {
  readonly kind: 'in-process' | 'redis';
  /** This node's id (`meta.origin` of the events it publishes). */
  readonly nodeId: string;
  /**
   * Delivers to every subscriber on every node, this one included. Resolves once handed to the
   * transport; rejects when it is unreachable (the caller decides what that means).
   */
  publish(type: GatewayEventType, payload: EventPayload): Promise<void>;
  /** Returns an unsubscribe function. A throwing handler never affects the others. */
  subscribe(type: GatewayEventType, handler: EventHandler): () => void;
  close(): Promise<void>;
}
