import { randomBytes } from 'node:crypto';
import { base62Width, toBase62 } from './base62.js';
import { crc32 } from './crc32.js';

/**
 * API keys look like `pcs_<lookupId>_<secret>_<checksum>`:
 * - `lookupId`: 64 random bits (11 base62 characters), stored in clear to find the key's record;
 * - `secret`: 192 random bits (33 base62 characters), never stored (only an HMAC of the whole key);
 * - `checksum`: CRC-32 of everything before it (6 base62 characters), so secret scanners can
 *   recognise a key and typos are refused without touching the store.
 */
export const LOOKUP_ID_BYTES = 8;
export const SECRET_BYTES = 24;
export const LOOKUP_ID_LENGTH = base62Width(LOOKUP_ID_BYTES);
export const SECRET_LENGTH = base62Width(SECRET_BYTES);
export const CHECKSUM_LENGTH = 6;
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{1,15}$/;
/** Longest possible well-formed key: anything longer is refused before parsing. */
export const MAX_API_KEY_LENGTH = 16 + 1 + LOOKUP_ID_LENGTH + 1 + SECRET_LENGTH + 1 + CHECKSUM_LENGTH;

const KEY_PATTERN = new RegExp(
  `^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{${LOOKUP_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})_([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);
const LOOKUP_ID_PATTERN = new RegExp(`^[0-9A-Za-z]{${LOOKUP_ID_LENGTH}}$`);

export interface GeneratedApiKey {
  /** The full key: shown once to its owner, never stored. */
  readonly key: string;
  readonly lookupId: string;
}

export interface ParsedApiKey {
  readonly prefix: string;
  readonly lookupId: string;
}

export type ApiKeyParseResult =
  { ok: true; key: ParsedApiKey } | { ok: false; reason: 'malformed' | 'bad_checksum' };

export function generateApiKey(prefix: string, lookupId = newLookupId()): GeneratedApiKey {
  if (!PREFIX_PATTERN.test(prefix)) throw new TypeError(`API key prefix must match ${PREFIX_PATTERN}`);
  if (!isLookupId(lookupId)) throw new TypeError('malformed lookup id');
  const body = `${prefix}_${lookupId}_${toBase62(randomBytes(SECRET_BYTES), SECRET_LENGTH)}`;
  return { key: `${body}_${checksum(body)}`, lookupId };
}

export function newLookupId(): string {
  return toBase62(randomBytes(LOOKUP_ID_BYTES), LOOKUP_ID_LENGTH);
}

export function isLookupId(value: string): boolean {
  return LOOKUP_ID_PATTERN.test(value);
}

/** Checks shape and checksum only: cheap, no secrets involved. */
export function parseApiKey(text: string): ApiKeyParseResult {
  if (text.length > MAX_API_KEY_LENGTH) return { ok: false, reason: 'malformed' };
  const match = KEY_PATTERN.exec(text);
  if (match === null) return { ok: false, reason: 'malformed' };
  const [, prefix = '', lookupId = '', , sum = ''] = match;
  if (checksum(text.slice(0, text.length - CHECKSUM_LENGTH - 1)) !== sum)
    return { ok: false, reason: 'bad_checksum' };
  return { ok: true, key: { prefix, lookupId } };
}

function checksum(body: string): string {
  return toBase62(crc32(body), CHECKSUM_LENGTH);
}
