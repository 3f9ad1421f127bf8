/** Limits the hardened JSON reader enforces before a value reaches validation. */
export interface JsonLimits {
  /** Largest body read, in bytes. */
  readonly maxBodyBytes: number;
  /** Deepest nesting of arrays and objects (the top-level value is depth 1). */
  readonly maxDepth: number;
  readonly maxArrayLength: number;
  /** Longest string or key, counted in characters of the raw (escaped) text. */
  readonly maxStringLength: number;
  readonly maxObjectKeys: number;
  /** Integers outside ±(2^53-1): `reject` (default) or `allow` (parsed as the nearest double). */
  readonly unsafeNumbers: 'reject' | 'allow';
  readonly multipart: { readonly maxParts: number; readonly maxPartBytes: number };
}

export const DEFAULT_JSON_LIMITS: JsonLimits = {
  maxBodyBytes: 1024 * 1024,
  maxDepth: 32,
  maxArrayLength: 10_000,
  maxStringLength: 100_000,
  maxObjectKeys: 1_000,
  unsafeNumbers: 'reject',
  multipart: { maxParts: 20, maxPartBytes: 10 * 1024 * 1024 },
};
