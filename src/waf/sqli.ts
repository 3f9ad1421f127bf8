import { C, charMask } from './char-mask.js';
import type { Paranoia, RuleHit } from './classes.js';
import {
  CATALOGUE_NAMES,
  DOTTED_CATALOGUE,
  SIGNAL_WORDS,
  isSpace,
  isWordChar,
  SQL_STATEMENTS,
  tokenizeSql,
  wordAfterNumber,
  type SqlToken,
} from './sql-tokens.js';

/**
 * SQL injection by token structure (after libinjection's idea, CRS 942100). The input is read in
 * three contexts — as-is (numeric injection), after a `'` and after a `"` (string injection) —
 * and each token stream is checked against a few structural rules:
 * break-out followed by logic/comment/statement, tautologies, UNION SELECT, stacked statements,
 * and database functions that only attacks use (CRS 942160 sleep/benchmark, 942190 MSSQL exec,
 * 942140 system catalogue names).
 */

/** Functions whose appearance as `name(` is an attack signal by itself (level 1). */
const ATTACK_FUNCTIONS = new Set([
  'sleep',
  'benchmark',
  'pg_sleep',
  'load_file',
  'extractvalue',
  'updatexml',
  'receive_message',
  'get_host_name',
  'get_host_address',
  'sys_eval',
  'sys_exec',
  'name_const',
  'load_extension',
  'lo_import',
  'lo_export',
  'pg_read_file',
  'pg_ls_dir',
  'dblink',
  'openrowset',
  'opendatasource',
  'xp_cmdshell',
  'xp_dirtree',
  'randomblob',
  'geometrycollection',
  'multipoint',
  'polygon',
  'linestring',
  'gtid_subset',
  'json_keys',
  'exp',
  'make_set',
  'elt',
  'sp_executesql',
  'dbms_xmlgen',
  'ctxsys',
  'utl_http',
  'utl_inaddr',
  'dbms_pipe',
  'sqlite_version',
  'pg_sleep_for',
]);
/** Functions common in attacks and in ordinary code (level 2). */
const SQL_FUNCTIONS = new Set([
  'char',
  'chr',
  'concat',
  'concat_ws',
  'group_concat',
  'ascii',
  'substring',
  'substr',
  'mid',
  'ord',
  'hex',
  'unhex',
  'user',
  'current_user',
  'system_user',
  'session_user',
  'database',
  'version',
  'schema',
  'count',
  'length',
  'if',
  'iif',
  'ifnull',
  'isnull',
  'coalesce',
  'cast',
  'convert',
  'md5',
  'sha1',
  'rand',
  'floor',
  'db_name',
  'host_name',
  'waitfor',
  'updatexml',
  'instr',
  'locate',
  'position',
  'left',
  'right',
  'reverse',
  'nullif',
  'sum',
  'now',
]);
const DROP_OBJECTS = new Set([
  'table',
  'database',
  'schema',
  'user',
  'procedure',
  'view',
  'index',
  'function',
  'trigger',
]);
const OPERAND = new Set(['s', '1', 'n', 'v', 'b']);
const EQUALITY = new Set(['=', '==', '<=>', '!=', '<>', 'like', 'rlike', 'regexp', 'is', 'sounds', 'glob']);
const ORDERING = new Set(['<', '>', '<=', '>=']);
const LITERAL = new Set(['s', '1', 'b', 'v']);

type Tokens = readonly SqlToken[];

function type(tokens: Tokens, i: number): string {
  return tokens[i]?.type ?? '$';
}
function value(tokens: Tokens, i: number): string {
  return tokens[i]?.value ?? '';
}

/** A statement with SQL shape starting at `i` (not English that starts with "select" or "drop"). */
function isStatement(tokens: Tokens, i: number): boolean {
  const word = value(tokens, i);
  if (type(tokens, i) !== 'E') return false;
  const next = tokens[i + 1];
  const after = value(tokens, i + 2);
  switch (word) {
    case 'select': {
      if (next === undefined) return false;
      if (next.type === 'o' && next.value === '*') return true;
      if (
        next.type === 'f' ||
        next.type === '1' ||
        next.type === 's' ||
        next.type === 'v' ||
        next.type === '('
      )
        return true;
      if (
        next.type === 'b' ||
        (next.type === 'k' && (next.value === 'distinct' || next.value === 'all' || next.value === 'top'))
      )
        return true;
      if (next.type === 'n') {
        // select col from tbl | select a, b | select t.col
        const t2 = type(tokens, i + 2);
        if (t2 === ',' || t2 === '.') return true;
        if (t2 === 'k' && after === 'from') return true;
      }
      return false;
    }
    case 'drop':
    case 'create':
    case 'alter':
    case 'truncate':
    case 'rename':
      return (
        next !== undefined && (DROP_OBJECTS.has(next.value) || (word === 'truncate' && next.type === 'n'))
      );
    case 'delete':
      // `delete u from users u`, `delete users from users`: the table named before `from` is
      // named (or aliased) after it (`Delete photos from my album` is not)
      return (
        next?.value === 'from' ||
        (next?.type === 'n' &&
          after === 'from' &&
          (value(tokens, i + 3) === next.value || value(tokens, i + 4) === next.value))
      );
    case 'insert':
    case 'replace':
      return next?.value === 'into';
    case 'update': {
      // `update users set`, `update users u set`, `update users as u set`
      if (next?.type !== 'n') return false;
      const alias = after === 'as' ? i + 3 : i + 2;
      return after === 'set' || (type(tokens, alias) === 'n' && value(tokens, alias + 1) === 'set');
    }
    case 'exec':
    case 'execute':
      return (
        next !== undefined &&
        (next.type === 'n' || next.type === 'f' || next.type === '(' || next.type === 'v')
      );
    case 'declare':
      return next?.type === 'v';
    case 'waitfor':
      return next?.value === 'delay' || next?.value === 'time';
    case 'shutdown':
      return next === undefined || next.type === 'c' || next.type === ';' || next.value === 'with';
    case 'grant':
    case 'revoke':
      return after === 'on' || after === 'to' || after === 'from' || value(tokens, i + 3) === 'on';
    case 'load':
      return next?.value === 'data';
    case 'attach':
      return next?.value === 'database';
    case 'pragma':
      return next?.type === 'n';
    default:
      return false;
  }
}

/** Words that join names in statements (`grant all on db to bob`): no sign of prose. */
const JOINING_NAMES = new Set(['on', 'to']);

/**
 * A bare statement that goes on as a sentence (let through at level 2, refused from level 3): a `?` or `:` outside strings, a final
 * `.`, or three plain words in a row (`Delete from my list please`, `Grant access to the shared
 * folder?`, `Truncate long titles to 50 characters.`). Read up to the first `;` or comment;
 * `create` and `alter` are not held to the word rule (column definitions: `add x int`).
 */
function readsAsProse(tokens: Tokens, start: number): boolean {
  const wordRule = value(tokens, start) !== 'create' && value(tokens, start) !== 'alter';
  let names = 0;
  let depth = 0;
  for (let j = start + 1; j < tokens.length; j++) {
    const tok = tokens[j] as SqlToken;
    if (tok.type === ';' || tok.type === 'c') return false;
    if (tok.type === '(') depth++;
    else if (tok.type === ')') depth--;
    if (tok.type === 'n' && (tok.value === '?' || tok.value === ':')) return true;
    if (tok.type === '.' && j === tokens.length - 1) return true;
    names = tok.type === 'n' && depth === 0 && !JOINING_NAMES.has(tok.value) ? names + 1 : 0;
    if (wordRule && names === 3) return true;
  }
  return false;
}

/** Returns the index past an operand (number, string, name.name, variable, function call head). */
function operandEnd(tokens: Tokens, i: number): number {
  let j = i;
  while (
    type(tokens, j) === 'o' &&
    (value(tokens, j) === '-' || value(tokens, j) === '!' || value(tokens, j) === '~')
  )
    j++;
  if (!OPERAND.has(type(tokens, j))) return -1;
  j++;
  while (type(tokens, j) === '.' && OPERAND.has(type(tokens, j + 1))) j += 2;
  return j;
}

/**
 * An expression after a logic operator that is injection-shaped: a comparison, a lone literal
 * ending the input or followed by a comment, a function call or a sub-select.
 * `strict` accepts only literal comparisons (for inputs that may be prose).
 */
function isInjectedExpression(tokens: Tokens, i: number, strict: boolean): boolean {
  let j = i;
  while (type(tokens, j) === '(') j++;
  if (type(tokens, j) === '&' && value(tokens, j) === 'not') j++;
  const t = type(tokens, j);
  if (t === 'f')
    return !strict || ATTACK_FUNCTIONS.has(value(tokens, j)) || SQL_FUNCTIONS.has(value(tokens, j));
  if (t === 'E') return isStatement(tokens, j) || value(tokens, j) === 'select';
  if (t === 'k' && value(tokens, j) === 'exists') return true;
  const end = operandEnd(tokens, j);
  if (end === -1) return false;
  const leftLiteral = LITERAL.has(type(tokens, j)) || type(tokens, j) === 'o';
  const after = type(tokens, end);
  if (after === 'o') {
    let k = end + 1;
    if (type(tokens, k) === '&' && value(tokens, k) === 'not') k++; // is not null
    while (type(tokens, k) === '(') k++;
    const rt = type(tokens, k);
    if (rt === 'f' || rt === 'E') return true;
    if (!OPERAND.has(rt)) return false;
    if (!strict) return true;
    return leftLiteral && LITERAL.has(rt);
  }
  if (!leftLiteral) return false;
  return after === '$' || after === 'c' || after === ';' || (after === ')' && !strict);
}

function quoteContext(tokens: Tokens, level: Paranoia): RuleHit {
  if (tokens.length < 2) return undefined;
  let i = 1;
  while (type(tokens, i) === ')' && i < 4) i++;
  const t = type(tokens, i);
  const v = value(tokens, i);
  if (t === 'c') return i === 1 || level >= 2 ? 'sqli.quote-comment' : undefined;
  if (t === '&' && isInjectedExpression(tokens, i + 1, false)) return 'sqli.quote-logic';
  if (t === 'U') return 'sqli.quote-union';
  if (t === ';') {
    if (isStatement(tokens, i + 1)) return 'sqli.quote-stacked';
    const nt = type(tokens, i + 1);
    if (level >= 2 && (nt === '$' || nt === 'c')) return 'sqli.quote-terminator';
  }
  if (t === 'o' && v !== '.') {
    const next = i + 1;
    const nt = type(tokens, next);
    if (nt === 'f' || nt === 'E' || (nt === '(' && type(tokens, next + 1) === 'E'))
      return 'sqli.quote-operator';
    const end = operandEnd(tokens, next);
    if (end !== -1 && LITERAL.has(type(tokens, next))) {
      const after = type(tokens, end);
      if (after === '$' || after === 'c') return 'sqli.quote-operator';
      if (after === 'o' || after === '&')
        return level >= 2 || tokens[end - 1]?.type === 's' ? 'sqli.quote-operator' : undefined;
    }
  }
  if (t === 'k') {
    const nv = value(tokens, i + 1);
    if ((v === 'order' || v === 'group') && nv === 'by' && OPERAND.has(type(tokens, i + 2)))
      return 'sqli.quote-clause';
    if (v === 'having' && isInjectedExpression(tokens, i + 1, false)) return 'sqli.quote-clause';
    if (v === 'into' && (nv === 'outfile' || nv === 'dumpfile')) return 'sqli.quote-clause';
    if (v === 'procedure' && nv === 'analyse') return 'sqli.quote-clause';
    if (v === 'limit' && type(tokens, i + 1) === '1') return 'sqli.quote-clause';
    if (level >= 3) return 'sqli.quote-keyword';
  }
  if (t === 'o' && (v === 'like' || v === 'rlike' || v === 'regexp') && level >= 2)
    return 'sqli.quote-operator';
  if (level >= 3 && (t === 'E' || t === '&' || t === 'o')) return 'sqli.quote-keyword';
  return undefined;
}

function numericContext(tokens: Tokens, level: Paranoia): RuleHit {
  let i = operandEnd(tokens, 0);
  if (i === -1) return undefined;
  const first = type(tokens, 0) === 'o' ? type(tokens, 1) : type(tokens, 0);
  while (type(tokens, i) === ')' && i < 4) i++;
  const t = type(tokens, i);
  if (t === '&') {
    const literalStart = first === '1' || first === 'v';
    if (isInjectedExpression(tokens, i + 1, !literalStart && level < 2)) return 'sqli.numeric-logic';
  }
  if (t === ';' && isStatement(tokens, i + 1)) return 'sqli.numeric-stacked';
  if (first === '1' && t === 'k') {
    const v = value(tokens, i);
    if ((v === 'order' || v === 'group') && value(tokens, i + 1) === 'by' && type(tokens, i + 2) === '1')
      return 'sqli.numeric-clause';
    if (v === 'having' || (v === 'procedure' && value(tokens, i + 1) === 'analyse'))
      return 'sqli.numeric-clause';
  }
  if (first === '1' && t === 'c' && level >= 2) return 'sqli.numeric-comment';
  return undefined;
}

/** Rules that hold anywhere in the token stream. */
function anywhere(tokens: Tokens, level: Paranoia): RuleHit {
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as SqlToken;
    switch (tok.type) {
      case 'U': {
        let j = i + 1;
        if (type(tokens, j) === 'k' && (value(tokens, j) === 'all' || value(tokens, j) === 'distinct')) j++;
        while (type(tokens, j) === '(') j++;
        if (type(tokens, j) === 'E' && value(tokens, j) === 'select') return 'sqli.union-select';
        break;
      }
      case 'f':
        // the lexer only makes `name(` (no blank) a function: "sleep (8 hours)" stays prose
        if (ATTACK_FUNCTIONS.has(tok.value)) return 'sqli.attack-function';
        if (level >= 2 && SQL_FUNCTIONS.has(tok.value)) return 'sqli.sql-function';
        break;
      case 'v':
        if (tok.value.startsWith('@@') && tok.value.length > 3) return 'sqli.system-variable';
        break;
      case 'n':
        if (CATALOGUE_NAMES.has(tok.value)) return 'sqli.catalogue';
        // a three-part name through the master database (`master..sysdatabases`,
        // `master.dbo.xp_cmdshell`); `master.` then a word is the end of a sentence
        if (
          tok.value === 'master' &&
          type(tokens, i + 1) === '.' &&
          (type(tokens, i + 2) === '.' || (type(tokens, i + 2) === 'n' && type(tokens, i + 3) === '.'))
        )
          return 'sqli.catalogue';
        if (
          type(tokens, i + 1) === '.' &&
          type(tokens, i + 2) === 'n' &&
          DOTTED_CATALOGUE.get(tok.value)?.has(value(tokens, i + 2)) === true
        )
          return 'sqli.catalogue';
        if (
          (tok.value.startsWith('xp_') || tok.value.startsWith('sp_')) &&
          type(tokens, i - 1) === 'E' &&
          (value(tokens, i - 1) === 'exec' || value(tokens, i - 1) === 'execute')
        )
          return 'sqli.stored-procedure';
        break;
      case ';':
        if (isStatement(tokens, i + 1)) return 'sqli.stacked';
        break;
      case 'k':
        if (
          tok.value === 'into' &&
          (value(tokens, i + 1) === 'outfile' || value(tokens, i + 1) === 'dumpfile')
        )
          return 'sqli.into-outfile';
        break;
      case 'E':
        if (tok.value === 'waitfor' && isStatement(tokens, i)) return 'sqli.waitfor';
        if (
          level >= 2 &&
          (i === 0 || type(tokens, i - 1) === '(') &&
          isStatement(tokens, i) &&
          (level >= 3 || !readsAsProse(tokens, i))
        )
          return 'sqli.statement';
        break;
      case '&': {
        // or 1=1 / and 'a'='a' / || 2>1: literal tautologies anywhere
        const j = operandEnd(tokens, i + 1);
        if (j !== -1 && LITERAL.has(type(tokens, i + 1)) && type(tokens, j) === 'o' && tok.value !== 'not') {
          const k = j + 1;
          const op = value(tokens, j);
          if (LITERAL.has(type(tokens, k))) {
            if (EQUALITY.has(op)) return 'sqli.tautology';
            if (ORDERING.has(op) && (type(tokens, k + 1) === 'c' || level >= 2)) return 'sqli.tautology';
          }
        }
        if (type(tokens, i + 1) === '1' || type(tokens, i + 1) === 'b') {
          if (type(tokens, i + 2) === 'c' && tokens[i - 1] !== undefined) return 'sqli.tautology';
        }
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/** The characters of `'";=()#-/*<>|&@\``: one of them, or an SQL word, is needed for any rule. */
const SQL_TRIGGERS =
  C.quote |
  C.semicolon |
  C.equals |
  C.paren |
  C.hash |
  C.minus |
  C.slash |
  C.star |
  C.lt |
  C.gt |
  C.pipe |
  C.amp |
  C.at |
  C.backtick;

/**
 * Whether any rule can fire: exported for the inspector's level-1 gate, which is this check and
 * needsPlainReading for values without SQL punctuation (prefilter.test.ts). From level 2 a value
 * that starts with a statement word may be a bare statement (`drop table users`).
 */
export function mayBeSql(mask: number, lower: string, level: Paranoia = 1): boolean {
  if ((mask & SQL_TRIGGERS) !== 0) return true;
  if (level >= 2 && statementWordAt(lower, 0)) return true;
  return (
    lower.includes('union') ||
    lower.includes('select') ||
    lower.includes('having') ||
    lower.includes(' by ') ||
    lower.includes(' or ') ||
    lower.includes(' and ') ||
    lower.includes(' xor ') ||
    // the word bits are not exact with non-ASCII characters or NUL (charMask)
    ((mask & (C.sqlWord | C.nonAscii | C.control)) !== 0 &&
      (logicWord(lower) ||
        lower.includes('waitfor') ||
        lower.includes('outfile') ||
        lower.includes('dumpfile') ||
        ((mask & (C.underscore | C.dot)) !== 0 && procedureAfterExec(lower)))) ||
    ((mask & C.dot) !== 0 && catalogueName(mask, lower))
  );
}

/** The catalogue names and the schemas of dotted ones (words the lexer reads whole). */
const CATALOGUE_TOKENS = [...CATALOGUE_NAMES, ...DOTTED_CATALOGUE.keys()];

/**
 * A catalogue name (`pg_catalog`), which mayBeSql passes in a value with a `.`: alone it may be
 * an honest value's name. From the mask's catalogue bit; a value with NUL or another control
 * character has its words read again from `lower` (NUL removal joins words: `pg_\0user`), so
 * the verdict is the one of the value without them (never a mere substring: `pg_userload`).
 * With non-ASCII characters the lexer may read a name the mask does not (`\u00a0pg_user`,
 * U+00A0 is a blank to it): a plain search then, a superset.
 */
function catalogueName(mask: number, lower: string): boolean {
  const words = (mask & C.control) !== 0 ? charMask(lower) : mask;
  if ((words & C.catalogue) !== 0) return true;
  return (words & C.nonAscii) !== 0 && CATALOGUE_TOKENS.some((name) => lower.includes(name));
}

/**
 * `exec` or `execute`, blanks, then a name starting `xp_` or `sp_` (`exec xp_cmdshell`, rule
 * `sqli.stored-procedure`) or `master.`, blanks allowed before the dot (`exec master..xp_cmdshell`,
 * `exec master . . xp_cmdshell`, rule `sqli.catalogue`): what
 * those rules need when the value has no SQL punctuation. A superset (the word before `exec` is
 * not checked). Each search resumes after the blanks it read: linear.
 */
function procedureAfterExec(lower: string): boolean {
  for (let i = lower.indexOf('exec'); i !== -1; i = lower.indexOf('exec', i)) {
    i += lower.startsWith('ute', i + 4) ? 7 : 4;
    if (!isSpace(lower.charCodeAt(i))) continue;
    while (isSpace(lower.charCodeAt(i))) i++;
    if (lower.startsWith('xp_', i) || lower.startsWith('sp_', i)) return true;
    // `master.` or `master .`: the lexer reads blanks around a name's dots as nothing
    // (`exec master . . xp_cmdshell`, `exec master . dbo . xp_cmdshell`)
    if (lower.startsWith('master', i)) {
      let j = i + 6;
      while (isSpace(lower.charCodeAt(j))) j++;
      if (lower.charCodeAt(j) === 46) return true;
    }
  }
  return false;
}

/**
 * Whether the first run of ASCII letters from `from` on is a statement word (`drop`, `exec`, …).
 * Whatever precedes it is skipped, and a word that goes on with digits (`drop1`) counts too: a
 * superset of "the first token from here is a statement word", which the level-2 rule
 * `sqli.statement` needs (at the start of the value or after `(`).
 */
export function statementWordAt(lower: string, from: number): boolean {
  let i = from;
  while (i < lower.length && !isLowerLetter(lower.charCodeAt(i))) i++;
  let j = i;
  while (j < lower.length && j - i <= 10 && isLowerLetter(lower.charCodeAt(j))) j++;
  return j > i && SQL_STATEMENTS.has(lower.slice(i, j));
}

function isLowerLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** The lexer's blanks other than the space (`\t \n \v \f \r`) set one of these bits. */
export const OTHER_BLANKS = C.tab | C.newline | C.control;

/**
 * A blank that also ends a word to the SQL lexer: `isSpace` (sql-tokens.ts) without U+00A0, which
 * the lexer reads as part of a word it is in.
 */
function isSqlBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

const BLANK_SEPARATED = ['or', 'and', 'xor', 'by'];

/**
 * ` or `, ` and `, ` xor `, ` by ` with any blanks around the word (`1\tor\ttrue`, `1\nor\n1`):
 * SQL engines take a tab or a newline where a space is. For the inspector's level-2 gate, which
 * searches the spaced forms first and calls this only when the mask shows another blank
 * (OTHER_BLANKS).
 */
export function blankSeparatedWord(lower: string): boolean {
  for (const word of BLANK_SEPARATED) {
    for (let i = lower.indexOf(word, 1); i !== -1; i = lower.indexOf(word, i + 1)) {
      if (isSqlBlank(lower.charCodeAt(i + word.length)) && isSqlBlank(lower.charCodeAt(i - 1))) return true;
    }
  }
  return false;
}

const LOGIC_WORDS = ['or', 'and', 'xor', 'not', 'by'];

/**
 * `or`, `and`, `xor`, `not`, `by` where the lexer reads them as words: after the start, a character that
 * ends a word (a blank of any kind, `.`, `!`) or a number (`1or`, `1.or`, `1eor`, `1e+or`), and
 * before a character that is not a word character (`1\tor\ttrue`, `1\nor\n1`, `1 or.5`,
 * `1or!1`). Also true where the lexer does not split (`a1or `): a superset.
 */
function logicWord(lower: string): boolean {
  for (const word of LOGIC_WORDS) {
    for (let i = lower.indexOf(word); i !== -1; i = lower.indexOf(word, i + 1)) {
      const after = i + word.length;
      if (after >= lower.length || isWordChar(lower.charCodeAt(after))) continue;
      const before = lower.charCodeAt(i - 1); // NaN at the start
      // `$` continues a word but starts none (`$and 0` is `$`, `and`, `0`)
      if (!isWordChar(before) || before === 36 || numberEndsBefore(lower, i) || hexEndsBefore(lower, i))
        return true;
    }
  }
  return false;
}

/**
 * Whether `lower` has a hex literal just before `at` (`0xab` before `or`). The walk back over hex
 * digits stops at a character of the word searched for (each has one that is no hex digit), so the
 * walks of one word's occurrences do not overlap.
 */
function hexEndsBefore(lower: string, at: number): boolean {
  let i = at - 1;
  for (let c = lower.charCodeAt(i); (c >= 48 && c <= 57) || (c >= 97 && c <= 102); c = lower.charCodeAt(i))
    i--;
  return i < at - 1 && lower.charCodeAt(i) === 120 && lower.charCodeAt(i - 1) === 48;
}

/** Whether `lower` has a number just before `at`: `1`, `1.`, `1e`, `1e+` (the lexer's number forms). */
function numberEndsBefore(lower: string, at: number): boolean {
  let i = at - 1;
  let c = lower.charCodeAt(i);
  if (c === 43 || c === 45) {
    // the sign of an exponent
    c = lower.charCodeAt(--i);
    if (c !== 101) return false;
  }
  if (c === 101) c = lower.charCodeAt(--i);
  while (c === 46) c = lower.charCodeAt(--i);
  return c >= 48 && c <= 57;
}

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
}

function statementFollows(lower: string, from: number): boolean {
  let i = from;
  while (
    i < lower.length &&
    (lower.charCodeAt(i) === 32 || (lower.charCodeAt(i) >= 9 && lower.charCodeAt(i) <= 13))
  )
    i++;
  if (i >= lower.length) return true;
  const c = lower.charCodeAt(i);
  if (c === 45 || c === 35 || c === 47 || c === 40) return true; // -- # /* (
  let j = i;
  while (j < lower.length && j - i < 10 && lower.charCodeAt(j) >= 97 && lower.charCodeAt(j) <= 122) j++;
  return SQL_STATEMENTS.has(lower.slice(i, j));
}

/** Characters that, with their context, call for the unquoted reading (`;` `#` `@` `&&` `||` `--` `/*`). */
const PLAIN_SIGNALS = C.sqlWord | C.call | C.hash | C.at;

/**
 * The unquoted reading only matters with a logic operator, a statement word, a comment, `;`,
 * `@@` or a `name(` call. Words and calls come from the mask's one pass (charMask); only the
 * two-character signals are searched for, and only when their characters are present.
 */
export function needsPlainReading(lower: string, level: Paranoia, mask: number): boolean {
  if (level >= 2) return true;
  // the word bits are not exact once case folding or NUL removal can change words
  if ((mask & (C.nonAscii | C.control)) !== 0) return needsPlainReadingSlow(lower);
  if ((mask & PLAIN_SIGNALS) !== 0) return true;
  if ((mask & C.amp) !== 0 && lower.includes('&&')) return true;
  if ((mask & C.pipe) !== 0 && lower.includes('||')) return true;
  if ((mask & C.minus) !== 0 && lower.includes('--')) return true;
  if ((mask & C.slash) !== 0 && lower.includes('/*')) return true;
  if ((mask & C.semicolon) !== 0) {
    for (let i = lower.indexOf(';'); i !== -1; i = lower.indexOf(';', i + 1))
      if (statementFollows(lower, i + 1)) return true;
  }
  return false;
}

/**
 * The same decision by one pass over the lower-cased value, for values the mask cannot vouch for
 * (and the reference the mask-based path is tested against).
 */
export function needsPlainReadingSlow(lower: string): boolean {
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32;
    if (isWordCode(c) || c > 0x7f) {
      if (start === -1) start = i;
      continue;
    }
    if (start !== -1) {
      if (i - start <= 20 && SIGNAL_WORDS.has(lower.slice(start, i))) return true;
      // the lexer reads `1or` as `1` and `or`
      for (const exponent of [false, true]) {
        const word = wordAfterNumber(lower, start, i, exponent);
        if (word !== -1 && i - word <= 20 && SIGNAL_WORDS.has(lower.slice(word, i))) return true;
      }
      if (c === 40 /* ( */) return true;
      start = -1;
    }
    switch (c) {
      case 59: // ; matters only before a statement (stacked query) or a comment
        if (statementFollows(lower, i + 1)) return true;
        break;
      case 35: // #
      case 64: // @
        return true;
      case 38: // &&
      case 124: // ||
      case 45: // --
        if (lower.charCodeAt(i + 1) === c) return true;
        break;
      case 47: // /*
        if (lower.charCodeAt(i + 1) === 42) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

/** `mask`: the value's charMask, when the caller has it. */
export function detectSqli(
  text: string,
  lower: string,
  level: Paranoia,
  _hadNul = false,
  mask = charMask(text),
): RuleHit {
  if (text.length < 2 || !mayBeSql(mask, lower, level)) return undefined;
  return readSql(text, level, needsPlainReading(lower, level, mask), (mask & C.quote) !== 0);
}

/**
 * Every reading and rule without the pre-checks (mayBeSql, needsPlainReading): exported for
 * prefilter.test.ts, which holds detectSqli to the same verdicts.
 */
export function detectSqliUnfiltered(text: string, level: Paranoia): RuleHit {
  return text.length < 2 ? undefined : readSql(text, level, true, true);
}

function readSql(text: string, level: Paranoia, plainReading: boolean, quoted: boolean): RuleHit {
  if (plainReading) {
    const plain = tokenizeSql(text, '');
    const hit = numericContext(plain, level) ?? anywhere(plain, level);
    if (hit !== undefined) return hit;
  }
  if (!quoted) return undefined;
  for (const quote of ["'", '"'] as const) {
    if (!text.includes(quote)) continue;
    const tokens = tokenizeSql(text, quote);
    const found = quoteContext(tokens, level) ?? anywhere(tokens, level);
    if (found !== undefined) return found;
  }
  return undefined;
}
