/** Why a store call failed, for callers to `switch` on. */
export type StoreErrorCode = 'conflict' | 'not_found' | 'invalid' | 'unavailable';

/** A store operation failed: a unique key already exists, a referenced row is missing, ... */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
