/**
 * The request body, read only when a stage asks for it. Until then it streams to the upstream
 * untouched. Once read, the buffered bytes are what is forwarded (or the replacement a stage set).
 */
export interface RequestBody {
  /** True when the request declares a body (Content-Length > 0 or chunked). */
  readonly present: boolean;
  /** Declared Content-Length, if any. */
  readonly declaredLength: number | undefined;
  /** Lower-cased media type without parameters, e.g. `application/json`. */
  readonly mediaType: string | undefined;
  /** True once a stage has buffered the body. */
  readonly buffered: boolean;
  /**
   * Reads the whole body into memory, refusing with `payload_too_large` past `limit` bytes.
   * Calling it again returns the same buffer.
   */
  read(limit: number): Promise<Buffer>;
  /** Replaces what will be forwarded (e.g. after stripping properties). */
  replace(body: Buffer): void;
  /** Cached parse results shared between stages (e.g. the hardened JSON value). */
  readonly parsed: Map<string, unknown>;
}
