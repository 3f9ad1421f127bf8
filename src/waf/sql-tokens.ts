/**
 * A small SQL lexer in the spirit of libinjection: it turns an input into typed tokens so the
 * SQLi rules look at structure (string break-out, logic operator, comparison, statement) instead
 * of running large regular expressions. Linear in the input; no regular expressions.
 */
export type SqlTokenType =
  | 's' // string literal
  | 'n' // bareword / identifier
  | '1' // number
  | 'v' // variable @x / @@x
  | 'b' // true / false / null
  | 'k' // other keyword
  | 'U' // union
  | 'E' // statement start (select, insert, drop, ...)
  | '&' // logic operator (and, or, xor, &&, ||)
  | 'o' // operator (=, <, like, is, ...)
  | 'f' // function name (bareword directly followed by '(')
  | 'c' // comment
  | '('
  | ')'
  | ','
  | ';'
  | '.';

export interface SqlToken {
  readonly type: SqlTokenType;
  /** Lower-case text for words, the literal for operators, the content for strings. */
  readonly value: string;
  /** Strings: closed by a matching quote; comments: run to the end of the input. */
  readonly closed: boolean;
}

const LOGIC = new Set(['and', 'or', 'xor', 'not']);
const WORD_OPERATORS = new Set([
  'like',
  'rlike',
  'regexp',
  'is',
  'in',
  'between',
  'div',
  'mod',
  'sounds',
  'glob',
  'match',
  'escape',
]);
/** Words that start an SQL statement (shared with the SQLi detector). */
export const SQL_STATEMENTS: ReadonlySet<string> = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'drop',
  'create',
  'alter',
  'exec',
  'execute',
  'declare',
  'truncate',
  'shutdown',
  'grant',
  'revoke',
  'replace',
  'merge',
  'call',
  'waitfor',
  'load',
  'handler',
  'rename',
  'attach',
  'pragma',
]);
/** Catalogue objects only attacks and DBAs name (CRS 942140). */
export const CATALOGUE_NAMES: ReadonlySet<string> = new Set([
  'information_schema',
  'sysobjects',
  'syscolumns',
  'sysusers',
  'sysdatabases',
  'pg_catalog',
  'pg_shadow',
  'pg_user',
  'pg_database',
  'sqlite_master',
  'sqlite_schema',
  'all_tables',
  'user_tables',
  'all_tab_columns',
  'user_objects',
  'msysobjects',
]);
/**
 * Catalogue names written `schema.name`, which the lexer reads as three tokens (`mysql` `.`
 * `user`): schema → names (rule `sqli.catalogue`; `master..sysdatabases` is the `master.` rule).
 */
export const DOTTED_CATALOGUE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['mysql', new Set(['user', 'db'])],
  ['sys', new Set(['objects', 'tables', 'columns', 'databases', 'sql_logins', 'server_principals'])],
]);
/** Words whose presence makes the unquoted reading worth doing. */
export const SIGNAL_WORDS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'xor',
  'not',
  'union',
  'intersect',
  'except',
  'order',
  'group',
  'having',
  'procedure',
  'into',
  'waitfor',
  'exec',
  'execute',
  'select',
  'insert',
  'update',
  'delete',
  'drop',
  'create',
  'alter',
  'truncate',
  'shutdown',
  'declare',
  'master',
  'mysql',
  'sys',
  ...CATALOGUE_NAMES,
]);

/** Hash of a word as needsPlainReading accumulates it (one multiply-add per character). */
export function wordHash(word: string): number {
  let h = 0;
  for (let i = 0; i < word.length; i++) h = (Math.imul(h, 31) + word.charCodeAt(i)) | 0;
  return h;
}

/**
 * Hashes of the signal words, so a word of prose is looked up without cutting it out of the
 * value; a hash hit is confirmed against SIGNAL_WORDS.
 */
export const SIGNAL_HASHES: ReadonlySet<number> = new Set([...SIGNAL_WORDS].map(wordHash));

const KEYWORDS = new Set([
  'from',
  'where',
  'order',
  'group',
  'by',
  'having',
  'limit',
  'offset',
  'into',
  'outfile',
  'dumpfile',
  'values',
  'set',
  'table',
  'database',
  'schema',
  'procedure',
  'analyse',
  'case',
  'when',
  'then',
  'else',
  'end',
  'all',
  'distinct',
  'top',
  'delay',
  'time',
  'as',
  'join',
  'asc',
  'desc',
  'exists',
  'if',
  'begin',
  'collate',
  'cast',
  'convert',
]);
const BOOLEANS = new Set(['true', 'false', 'null', 'unknown']);

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c > 0x7f;
}
/** A character the lexer reads as part of a word. */
export function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** A blank between tokens to the lexer. */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);
}

/**
 * The end of the hex literal at `start` (`0x` and at least one hex digit: `0x1or` is `0x1` and
 * `or`), or -1. Shared by the lexer and the pre-checks that must find the words it finds
 * (char-mask.ts, sqli.ts).
 */
export function hexLiteralEnd(value: string, start: number): number {
  if (value.charCodeAt(start) !== 48 || (value.charCodeAt(start + 1) | 32) !== 120) return -1;
  let i = start + 2;
  while (i < value.length && isHexDigit(value.charCodeAt(i))) i++;
  return i === start + 2 ? -1 : i;
}

/**
 * Where the lexer may start a word inside `value[start, end)`, a run of word characters
 * (`[A-Za-z0-9_]`, non-ASCII) that it reads as a number first: `1or` is `1` and `or`, `0x1or` is
 * `0x1` and `or`. With `exponent`, after an exponent instead: `1e5union` is `1e5` and `union`, and
 * after `1.` the run `eor` is `e` and `or`. A run of digits after an exponent's sign takes no
 * second exponent (`1exec` after `1e-` is `1` and `exec`), so callers try both places. -1 when
 * there is no such place. Callers find a superset of the lexer's words (`.0x1or` is `.0` and
 * `x1or` to the lexer).
 */
export function wordAfterNumber(value: string, start: number, end: number, exponent: boolean): number {
  let i = start;
  const first = value.charCodeAt(start);
  const hex = hexLiteralEnd(value, start);
  if (hex !== -1) return exponent || hex >= end ? -1 : hex;
  if (isDigit(first)) {
    i++;
    while (i < end && isDigit(value.charCodeAt(i))) i++;
    if (!exponent) return i < end ? i : -1;
  } else if (!exponent || (first | 32) !== 101 || !numberEndsAt(value, start)) {
    return -1;
  }
  if (i >= end || (value.charCodeAt(i) | 32) !== 101) return -1;
  i++;
  while (i < end && isDigit(value.charCodeAt(i))) i++;
  return i < end ? i : -1;
}

/**
 * `value[at - 1]` is the `.` of a number (`1.`, `1..`, `1e5.`): the dots follow a run of word
 * characters that starts with a digit (`a1.` is a word and a dot).
 */
function numberEndsAt(value: string, at: number): boolean {
  let i = at - 1;
  if (value.charCodeAt(i) !== 46) return false;
  while (i > 0 && value.charCodeAt(i) === 46) i--;
  if (!isRunChar(value.charCodeAt(i))) return false;
  while (i > 0 && isRunChar(value.charCodeAt(i - 1))) i--;
  return isDigit(value.charCodeAt(i));
}

/** A character of a word as the value's character mask reads words (`[A-Za-z0-9_]`, non-ASCII). */
function isRunChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 0x7f;
}

/** Exported for tests (the lexer pre-checks their second character). */
export const TWO_CHAR_OPS: ReadonlySet<string> = new Set([
  '<=',
  '>=',
  '<>',
  '!=',
  '||',
  '&&',
  ':=',
  '::',
  '<<',
  '>>',
  '==',
  '!<',
  '!>',
]);

/**
 * Tokenises `input`. With `quote` set, the input is read as if it followed that quote character
 * (the value was placed inside a string literal by the application). Stops after `max` tokens.
 */
export function tokenizeSql(input: string, quote: '' | "'" | '"', max = 4096): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const n = input.length;
  if (quote !== '') i = readString(input, 0, quote, tokens);
  while (i < n && tokens.length < max) {
    const c = input.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const ch = input[i] as string;
    if (c === 39 || c === 34) {
      i = readString(input, i + 1, ch as "'" | '"', tokens);
      continue;
    }
    if (c === 96 /* ` */) {
      const end = input.indexOf('`', i + 1);
      tokens.push({
        type: 'n',
        value: input.slice(i + 1, end === -1 ? n : end).toLowerCase(),
        closed: end !== -1,
      });
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 45 && input.charCodeAt(i + 1) === 45) {
      // `--` comment to end of line
      const end = input.indexOf('\n', i);
      tokens.push({ type: 'c', value: '--', closed: end === -1 });
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 35 /* # */) {
      const end = input.indexOf('\n', i);
      tokens.push({ type: 'c', value: '#', closed: end === -1 });
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 47 && input.charCodeAt(i + 1) === 42) {
      // /*! MySQL executable comment: its content is code, so skip only the marker
      if (input.charCodeAt(i + 2) === 33) {
        i += 3;
        while (i < n && isDigit(input.charCodeAt(i))) i++;
        continue;
      }
      const end = input.indexOf('*/', i + 2);
      if (end === -1) {
        tokens.push({ type: 'c', value: '/*', closed: true });
        i = n;
      } else {
        i = end + 2; // an inline comment is whitespace
      }
      continue;
    }
    if (c === 42 && input.charCodeAt(i + 1) === 47) {
      i += 2; // stray */ closing an executable comment
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(input.charCodeAt(i + 1)))) {
      let j = hexLiteralEnd(input, i);
      if (j === -1) {
        j = i + 1;
        while (j < n && (isDigit(input.charCodeAt(j)) || input.charCodeAt(j) === 46)) j++;
        if ((input.charCodeAt(j) | 32) === 101) {
          j++;
          if (input.charCodeAt(j) === 45 || input.charCodeAt(j) === 43) j++;
          while (j < n && isDigit(input.charCodeAt(j))) j++;
        }
      }
      tokens.push({ type: '1', value: input.slice(i, j), closed: true });
      i = j;
      continue;
    }
    if (c === 64 /* @ */) {
      let j = i + 1;
      if (input.charCodeAt(j) === 64) j++;
      while (j < n && (isWordChar(input.charCodeAt(j)) || input.charCodeAt(j) === 46)) j++;
      tokens.push({ type: 'v', value: input.slice(i, j).toLowerCase(), closed: true });
      i = j;
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(input.charCodeAt(j))) j++;
      const word = input.slice(i, j).toLowerCase();
      tokens.push({ type: classifyWord(word, input.charCodeAt(j) === 40), value: word, closed: true });
      i = j;
      continue;
    }
    // every two-character operator ends in one of = < > | & : (no slice for other punctuation)
    const c2 = input.charCodeAt(i + 1);
    const two =
      c2 === 61 || c2 === 60 || c2 === 62 || c2 === 124 || c2 === 38 || c2 === 58
        ? input.slice(i, i + 2)
        : '';
    if (two !== '' && TWO_CHAR_OPS.has(two)) {
      const three = input.slice(i, i + 3);
      if (three === '<=>') {
        tokens.push({ type: 'o', value: three, closed: true });
        i += 3;
        continue;
      }
      tokens.push({ type: two === '||' || two === '&&' ? '&' : 'o', value: two, closed: true });
      i += 2;
      continue;
    }
    switch (ch) {
      case '(':
      case ')':
      case ',':
      case ';':
      case '.':
        tokens.push({ type: ch, value: ch, closed: true });
        break;
      case '=':
      case '<':
      case '>':
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
      case '|':
      case '&':
      case '~':
      case '!':
        tokens.push({ type: 'o', value: ch, closed: true });
        break;
      default:
        // other punctuation ends the SQL reading of this token run
        tokens.push({ type: 'n', value: ch, closed: true });
    }
    i++;
  }
  return tokens;
}

type WordClass = 'logic' | 'union' | 'statement' | 'operator' | 'boolean' | 'keyword';

/** Each special word's class, by the precedence classifyWord applies (first set that has it). */
const WORD_CLASSES = new Map<string, WordClass>();
for (const [words, cls] of [
  [LOGIC, 'logic'],
  [['union', 'intersect', 'except'], 'union'],
  [SQL_STATEMENTS, 'statement'],
  [WORD_OPERATORS, 'operator'],
  [BOOLEANS, 'boolean'],
  [KEYWORDS, 'keyword'],
] as const) {
  for (const word of words) if (!WORD_CLASSES.has(word)) WORD_CLASSES.set(word, cls);
}

/** One look-up per word (most words of prose are in no set at all). */
function classifyWord(word: string, paren: boolean): SqlTokenType {
  switch (WORD_CLASSES.get(word)) {
    case undefined:
      return paren ? 'f' : 'n';
    case 'logic':
      return '&';
    case 'union':
      return 'U';
    case 'statement':
      return paren && word !== 'select' ? 'f' : 'E';
    case 'operator':
      return 'o';
    case 'boolean':
      return 'b';
    case 'keyword':
      return paren && (word === 'if' || word === 'cast' || word === 'convert') ? 'f' : 'k';
  }
}

function readString(input: string, start: number, quote: "'" | '"', tokens: SqlToken[]): number {
  let i = start;
  const n = input.length;
  const q = quote.charCodeAt(0);
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === q) {
      if (input.charCodeAt(i + 1) === q) {
        i += 2;
        continue;
      }
      tokens.push({ type: 's', value: input.slice(start, i), closed: true });
      return i + 1;
    }
    i++;
  }
  tokens.push({ type: 's', value: input.slice(start, n), closed: false });
  return n;
}
