import {
  CATALOGUE_NAMES,
  DOTTED_CATALOGUE,
  hexLiteralEnd,
  SIGNAL_HASHES,
  SIGNAL_WORDS,
} from './sql-tokens.js';

/**
 * One pass over a value records which metacharacters it contains, so each detector can be
 * skipped when none of the characters it needs is present (most honest text has few). The same
 * pass notes two word-level facts for the SQL detector (`sqlWord`, `call`), so that long prose is
 * read once by JavaScript rather than once per detector.
 */
export const C = {
  quote: 1 << 0, // ' "
  semicolon: 1 << 1,
  pipe: 1 << 2,
  amp: 1 << 3,
  dollar: 1 << 4,
  lt: 1 << 5,
  gt: 1 << 6,
  paren: 1 << 7,
  brace: 1 << 8,
  bracket: 1 << 9,
  backslash: 1 << 10,
  slash: 1 << 11,
  percent: 1 << 12,
  hash: 1 << 13,
  equals: 1 << 14,
  star: 1 << 15,
  newline: 1 << 16, // \n \r
  colon: 1 << 17,
  at: 1 << 18,
  backtick: 1 << 19,
  dot: 1 << 20,
  minus: 1 << 21,
  underscore: 1 << 22,
  nonAscii: 1 << 23,
  control: 1 << 24, // other C0 controls, NUL
  /**
   * A word (`[a-z0-9_]` and non-ASCII, case-folded) from the SQL signal words (sql-tokens.ts),
   * also where the SQL lexer starts one after a number (`1or`: `1` and `or`).
   */
  sqlWord: 1 << 25,
  /** A word directly followed by `(`. */
  call: 1 << 26,
  /** `\t`: with newline (`\n \r`) and control (`\v \f`), the SQL lexer's blanks other than the space. */
  tab: 1 << 28,
  /**
   * A signal word that is a system catalogue name or the schema of a dotted one (sql-tokens.ts
   * CATALOGUE_NAMES, DOTTED_CATALOGUE); sqlWord is set too.
   */
  catalogue: 1 << 29,
} as const;

const TABLE = new Int32Array(128);
const set = (chars: string, bit: number): void => {
  for (const ch of chars) TABLE[ch.charCodeAt(0)] = (TABLE[ch.charCodeAt(0)] ?? 0) | bit;
};
set('\'"', C.quote);
set(';', C.semicolon);
set('|', C.pipe);
set('&', C.amp);
set('$', C.dollar);
set('<', C.lt);
set('>', C.gt);
set('()', C.paren);
set('{}', C.brace);
set('[]', C.bracket);
set('\\', C.backslash);
set('/', C.slash);
set('%', C.percent);
set('#', C.hash);
set('=', C.equals);
set('*', C.star);
set('\n\r', C.newline);
set(':', C.colon);
set('@', C.at);
set('`', C.backtick);
set('.', C.dot);
set('-', C.minus);
set('_', C.underscore);
set('\t', C.tab);
for (let c = 0; c < 32; c++) if (c !== 9 && c !== 10 && c !== 13) TABLE[c] = C.control;

/** Internal: a word character (`[A-Za-z0-9_]`), never in a returned mask (masks stay small integers). */
const WORD_BIT = 1 << 27;
for (let c = 48; c <= 57; c++) TABLE[c] = (TABLE[c] as number) | WORD_BIT;
for (let c = 65; c <= 90; c++) TABLE[c] = (TABLE[c] as number) | WORD_BIT;
for (let c = 97; c <= 122; c++) TABLE[c] = (TABLE[c] as number) | WORD_BIT;
TABLE[95] = (TABLE[95] as number) | WORD_BIT;

/** `[A-Za-z0-9_]` or non-ASCII. */
function isWordCode(c: number): boolean {
  return c >= 128 || ((TABLE[c] as number) & WORD_BIT) !== 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The word bits of the run of word characters from `start` (it finds the run's end itself). */
function signalRunAt(value: string, start: number): number {
  let end = start;
  let wide = false;
  for (; end < value.length && isWordCode(value.charCodeAt(end)); end++) {
    if (value.charCodeAt(end) >= 128) wide = true;
  }
  return end > start ? signalWord(value, start, end, wide) : 0;
}

/** The rest of the run after the exponent `e` at `at` and its digits is a signal word. */
function signalAfterExponent(value: string, at: number): number {
  let start = at + 1;
  while (start < value.length && isDigit(value.charCodeAt(start))) start++;
  return signalRunAt(value, start);
}

/**
 * Whether the SQL lexer reads a signal word in the run `value[start, end)` that starts with digits:
 * after the digits (`1or`), after their exponent (`1e5union`) or after a hex literal (`0x1or`).
 * An exponent's digits take no second `e` (`1exec` after `1e-` is `1` and `exec`), so both
 * places count: the same places as wordAfterNumber in sql-tokens.ts.
 */
function signalAfterDigits(value: string, start: number, end: number): number {
  const hex = hexLiteralEnd(value, start);
  if (hex !== -1) return hex < end ? signalRunAt(value, hex) : 0;
  let i = start + 1;
  while (i < end && isDigit(value.charCodeAt(i))) i++;
  if (i === end) return 0;
  return signalRunAt(value, i) | ((value.charCodeAt(i) | 32) === 101 ? signalAfterExponent(value, i) : 0);
}

/** After the dots from `at` (which end a number: `1.`, `1..`), the word starts with `e`, an exponent. */
function exponentAfterDots(value: string, at: number): number {
  let i = at + 1;
  while (i < value.length && value.charCodeAt(i) === 46) i++;
  return i < value.length && (value.charCodeAt(i) | 32) === 101 ? signalAfterExponent(value, i) : 0;
}

/**
 * The mask of a value. The word bits are exact for ASCII text; with non-ASCII characters or NUL
 * in the value (which case folding or NUL removal can turn into other words) callers must not
 * rely on them. A word is a run of `[A-Za-z0-9_]` and non-ASCII characters, also split after
 * a leading number where the SQL lexer splits it (`1or`; signalAfterDigits).
 */
export function charMask(value: string): number {
  let mask = 0;
  let start = -1;
  let wide = false;
  // the run starts with a digit: the SQL lexer reads a number, then maybe a word (`1or`)
  let numeric = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // lower-case letters, most of prose, carry no bit of their own
    if (c >= 97 && c <= 122) {
      if (start === -1) start = i;
      continue;
    }
    if (c >= 128) {
      mask |= C.nonAscii;
      if (start === -1) start = i;
      wide = true;
      continue;
    }
    const bits = TABLE[c] as number;
    mask |= bits;
    if ((bits & WORD_BIT) !== 0) {
      if (start === -1) {
        start = i;
        numeric = c <= 57;
      }
      continue;
    }
    if (start !== -1) {
      if (c === 40) mask |= C.call;
      const word = signalWord(value, start, i, wide);
      if (word !== 0) mask |= word;
      // no signal word ends in a digit, so most numbers are dismissed here; `1.eor`: after a
      // number's dots the lexer reads `e` as its exponent, then maybe a word (both places count:
      // `1or.epg_user`)
      else if (numeric) {
        if (!isDigit(value.charCodeAt(i - 1))) mask |= signalAfterDigits(value, start, i);
        if (c === 46) mask |= exponentAfterDots(value, i);
      }
      start = -1;
      wide = false;
      numeric = false;
    }
  }
  if (start !== -1) {
    const word = signalWord(value, start, value.length, wide);
    if (word !== 0) mask |= word;
    else if (numeric && !isDigit(value.charCodeAt(value.length - 1)))
      mask |= signalAfterDigits(value, start, value.length);
  }
  return mask & ~WORD_BIT;
}

/** Longest signal word. */
const MAX_WORD = Math.max(...[...SIGNAL_WORDS].map((w) => w.length));
/** A signal word and the mask bits it sets (wordBits). */
type SignalEntry = readonly [string, number];
function wordBits(lowerWord: string): number {
  return C.sqlWord | (CATALOGUE_NAMES.has(lowerWord) || DOTTED_CATALOGUE.has(lowerWord) ? C.catalogue : 0);
}

/**
 * Signal words by first character (folded with `| 32`) and length: most words of prose find an
 * empty list, the others are compared in place (no slice, no case-folded copy).
 */
const BY_FIRST_AND_LENGTH: (readonly SignalEntry[] | undefined)[] = new Array<undefined>(
  128 * (MAX_WORD + 1),
).fill(undefined);
for (const word of SIGNAL_WORDS) {
  const at = ((word.charCodeAt(0) | 32) & 127) * (MAX_WORD + 1) + word.length;
  BY_FIRST_AND_LENGTH[at] = [...(BY_FIRST_AND_LENGTH[at] ?? []), [word, wordBits(word)]];
}

/** `value[start, start + word.length)` equals `word` (lower-case ASCII) ignoring ASCII case. */
function sameWord(value: string, start: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    const c = value.charCodeAt(start + k);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** Lower-case codes of word characters, for the hash of a word with non-ASCII characters. */
const WORD = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD[c] = c;
for (let c = 97; c <= 122; c++) WORD[c] = c;
for (let c = 65; c <= 90; c++) WORD[c] = c + 32;
WORD[95] = 95;

/** One bit per low 12 bits of a signal word's hash. */
const SIGNAL_FILTER = new Uint8Array(4096);
for (const hash of SIGNAL_HASHES) SIGNAL_FILTER[hash & 4095] = 1;

/**
 * The word bits of `value[start, end)`: `sqlWord` (and `catalogue` for a catalogue name) when it is
 * a signal word, else 0. An ASCII word (`[A-Za-z0-9_]`) is one when its lower-case form is in
 * SIGNAL_WORDS; a word with non-ASCII characters must also hash (its non-ASCII codes as they are)
 * to a signal word's hash, as the per-character hashing this replaces required.
 */
function signalWord(value: string, start: number, end: number, wide: boolean): number {
  const length = end - start;
  if (length > 20) return 0;
  if (!wide) {
    if (length > MAX_WORD) return 0;
    const words = BY_FIRST_AND_LENGTH[((value.charCodeAt(start) | 32) & 127) * (MAX_WORD + 1) + length];
    if (words === undefined) return 0;
    for (const [word, bits] of words) if (sameWord(value, start, word)) return bits;
    return 0;
  }
  let hash = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    hash = (Math.imul(hash, 31) + (c >= 128 ? c : (WORD[c] as number))) | 0;
  }
  if (SIGNAL_FILTER[hash & 4095] !== 1 || !SIGNAL_HASHES.has(hash)) return 0;
  const lower = value.slice(start, end).toLowerCase();
  return SIGNAL_WORDS.has(lower) ? wordBits(lower) : 0;
}

/**
 * The punctuation bits every value containing `needle` has: a needle whose bits are not all in a
 * value's mask cannot occur in it (nor in its lower-case form, which keeps ASCII punctuation), so
 * its search can be skipped.
 */
export function requiredBits(needle: string): number {
  return charMask(needle) & ~(C.sqlWord | C.catalogue | C.call | C.nonAscii);
}
