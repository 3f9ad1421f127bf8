import { SIGNAL_HASHES, SIGNAL_WORDS } from './sql-tokens.js';

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
  /** A word (`[a-z0-9_]` and non-ASCII, case-folded) from the SQL signal words (sql-tokens.ts). */
  sqlWord: 1 << 25,
  /** A word directly followed by `(`. */
  call: 1 << 26,
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
for (let c = 0; c < 32; c++) if (c !== 9 && c !== 10 && c !== 13) TABLE[c] = C.control;

/** Word characters for the SQL word bits, as lower-case codes (0: not a word character). */
const WORD = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD[c] = c;
for (let c = 97; c <= 122; c++) WORD[c] = c;
for (let c = 65; c <= 90; c++) WORD[c] = c + 32;
WORD[95] = 95;

/**
 * The mask of a value. The word bits are exact for ASCII text; with non-ASCII characters or NUL
 * in the value (which case folding or NUL removal can turn into other words) callers must not
 * rely on them.
 */
export function charMask(value: string): number {
  let mask = 0;
  let start = -1;
  let hash = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128) {
      mask |= C.nonAscii;
      if (start === -1) {
        start = i;
        hash = 0;
      }
      hash = (Math.imul(hash, 31) + c) | 0;
      continue;
    }
    mask |= TABLE[c] as number;
    const word = WORD[c] as number;
    if (word !== 0) {
      if (start === -1) {
        start = i;
        hash = 0;
      }
      hash = (Math.imul(hash, 31) + word) | 0;
      continue;
    }
    if (start !== -1) {
      if (c === 40) mask |= C.call;
      if (signalWord(value, start, i, hash)) mask |= C.sqlWord;
      start = -1;
    }
  }
  if (start !== -1 && signalWord(value, start, value.length, hash)) mask |= C.sqlWord;
  return mask;
}

/** One bit per low 12 bits of a signal word's hash: most prose words are dismissed by one load. */
const SIGNAL_FILTER = new Uint8Array(4096);
for (const hash of SIGNAL_HASHES) SIGNAL_FILTER[hash & 4095] = 1;

function signalWord(value: string, start: number, end: number, hash: number): boolean {
  return (
    SIGNAL_FILTER[hash & 4095] === 1 &&
    end - start <= 20 &&
    SIGNAL_HASHES.has(hash) &&
    SIGNAL_WORDS.has(value.slice(start, end).toLowerCase())
  );
}
