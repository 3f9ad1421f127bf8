import type { JsonLimits } from './limits.js';

type TreeLimits = Pick<
  JsonLimits,
  'maxDepth' | 'maxArrayLength' | 'maxStringLength' | 'maxObjectKeys' | 'unsafeNumbers'
>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** How many `:` the string holds (a native search; most strings have none). */
function colonsIn(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) count++;
  return count;
}

/** One of scan.ts's FORBIDDEN_KEYS, compared directly (a test holds the two lists together). */
function forbidden(key: string): boolean {
  return key === '__proto__' || key === 'prototype' || key === 'constructor';
}

/** Members of every object the walk met. */
class Tally {
  members = 0;
}

/**
 * False when `value` (at `depth` enclosing containers) may break a limit: scanJson decides then.
 * Objects are read with for-in, the cheapest way over JSON.parse's objects; a property some
 * code made enumerable on Object.prototype would only add to the count and send the text to
 * scanJson.
 */
function walk(value: unknown, depth: number, limits: TreeLimits, tally: Tally): boolean {
  if (typeof value === 'string') return value.length <= limits.maxStringLength;
  if (typeof value === 'number') {
    // an integer literal beyond ±(2^53-1) parses to an integer of at least 2^53 or to Infinity;
    // a fraction or exponent literal can land there too, which scanJson tells apart
    return (
      limits.unsafeNumbers !== 'reject' ||
      Math.abs(value) <= MAX_SAFE ||
      (Number.isFinite(value) && !Number.isInteger(value))
    );
  }
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= limits.maxDepth) return false;
  if (Array.isArray(value)) {
    if (value.length > limits.maxArrayLength) return false;
    for (let i = 0; i < value.length; i++) if (!walk(value[i], depth + 1, limits, tally)) return false;
    return true;
  }
  let members = 0;
  for (const key in value) {
    if (++members > limits.maxObjectKeys || key.length > limits.maxStringLength) return false;
    if ((key.length === 9 || key.length === 11) && forbidden(key)) return false;
    if (!walk((value as Record<string, unknown>)[key], depth + 1, limits, tally)) return false;
  }
  tally.members += members;
  return true;
}

/** Colons inside the strings (keys and values) of a value the walk accepted. */
function stringColons(value: unknown): number {
  if (typeof value === 'string') return colonsIn(value);
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) count += stringColons(value[i]);
    return count;
  }
  for (const key in value) {
    count += colonsIn(key) + stringColons((value as Record<string, unknown>)[key]);
  }
  return count;
}

/**
 * Whether `value`, which JSON.parse made from `text`, certainly keeps every limit scanJson
 * enforces: true means scanJson(text) finds nothing; false means it may (call it to know).
 * Only for texts without a backslash, where each string token's characters are its parsed value:
 *
 * - lengths, depth, array lengths, member counts, prototype keys and unsafe integers are read
 *   from the parsed value (an integer literal outside the safe range parses to an integer of at
 *   least 2^53 in magnitude, or to Infinity, both of which this sends to scanJson);
 * - duplicate members, which JSON.parse folds silently, are found by counting colons: every `:`
 *   of the text is a member's name separator or lies inside a string token, so the text's colons
 *   minus those in the parsed strings is at least the text's member count, which is at least the
 *   parsed member count; both are equal exactly when no member was folded (a folded member drops
 *   its separator and its strings from the parsed value).
 *
 * The colons inside strings are counted (a second walk) only when the text has more colons
 * than members. A walk over the few dozen values of a typical body costs a fraction of a
 * character-level scan of its text.
 */
export function withinLimits(value: unknown, text: string, limits: TreeLimits): boolean {
  const tally = new Tally();
  if (!walk(value, 0, limits, tally)) return false;
  const colons = colonsIn(text);
  // most texts have no colon inside a string: then the counts agree without a second walk
  if (colons === tally.members) return true;
  return colons > tally.members && colons - stringColons(value) === tally.members;
}
