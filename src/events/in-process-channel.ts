import { randomUUID } from 'node:crypto';
import { HandlerTable } from './handlers.js';
import type { EventChannel, EventHandler, EventPayload } from './types.js';

/** The embedded default: one process, events delivered on the next microtask. */
export class InProcessEventChannel implements EventChannel {
  readonly kind = 'in-process' as const;
  readonly nodeId = randomUUID();
  private readonly table: HandlerTable;

  constructor(onHandlerError: (type: string, error: unknown) => void = () => undefined) {
    this.table = new HandlerTable(onHandlerError);
  }

  async publish(type: string, payload: EventPayload): Promise<void> {
    const copy = JSON.parse(JSON.stringify(payload)) as EventPayload;
    queueMicrotask(() => this.table.dispatch(type, copy, this.nodeId));
  }

  subscribe(type: string, handler: EventHandler): () => void {
    const { remove } = this.table.add(type, handler);
    return () => {
      remove();
    };
  }

  async close(): Promise<void> {}
}
