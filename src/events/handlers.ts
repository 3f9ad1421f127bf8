import type { EventHandler, EventPayload } from './types.js';

/** Handlers per event type; a throwing handler is reported and never stops the others. */
export class HandlerTable {
  private readonly handlers = new Map<string, Set<EventHandler>>();

  constructor(private readonly onHandlerError: (type: string, error: unknown) => void) {}

  get types(): string[] {
    return [...this.handlers.keys()];
  }

  add(type: string, handler: EventHandler): { first: boolean; remove: () => boolean } {
    let set = this.handlers.get(type);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return {
      first,
      remove: () => {
        const current = this.handlers.get(type);
        if (current === undefined) return false;
        current.delete(handler);
        if (current.size > 0) return false;
        this.handlers.delete(type);
        return true;
      },
    };
  }

  dispatch(type: string, payload: EventPayload, origin: string): void {
    const set = this.handlers.get(type);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        handler(payload, { origin });
      } catch (error) {
        this.onHandlerError(type, error);
      }
    }
  }
}
