import type { ChangeEvent, ChangeKind, ChangeListener } from './types.js';

export const CHANGE_KINDS: readonly ChangeKind[] = [
  'api_key',
  'consumer',
  'client',
  'secret',
  'signing_key',
  'token',
];

/** The listeners of one store instance; a throwing listener never stops the others. */
export class ChangeHub {
  readonly #listeners = new Set<ChangeListener>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** The feed was interrupted: anything may have changed. */
  emitAll(): void {
    for (const kind of CHANGE_KINDS) this.emit({ kind, id: '*' });
  }

  clear(): void {
    this.#listeners.clear();
  }
}

export function isChangeKind(value: unknown): value is ChangeKind {
  return typeof value === 'string' && (CHANGE_KINDS as readonly string[]).includes(value);
}
