import type { AttackClass, Paranoia, RuleHit } from './classes.js';
import { C } from './char-mask.js';
import { detectCmdi } from './cmdi.js';
import { detectEncoding } from './encoding.js';
import { normaliseValue, type NormalisedValue } from './normalise.js';
import { detectNosqli, operatorKey } from './nosqli.js';
import {
  blankSeparatedWord,
  detectSqli,
  mayBeSql,
  needsPlainReading,
  OTHER_BLANKS,
  statementWordAt,
} from './sqli.js';
import { detectSsti } from './ssti.js';
import { detectTraversal } from './traversal.js';
import { detectXss } from './xss.js';

export interface Detection {
  readonly class: AttackClass;
  readonly rule: string;
}

/** `mask` is the value's `charMask` (detectors called without it compute what they need). */
type ContentDetector = (
  text: string,
  lower: string,
  level: Paranoia,
  hadNul: boolean,
  mask: number,
) => RuleHit;

/** Content detectors in the order they run (cheapest and most specific first). */
const CONTENT_DETECTORS: readonly (readonly [AttackClass, ContentDetector])[] = [
  ['encoding', detectEncoding],
  ['xss', detectXss],
  ['traversal', detectTraversal],
  ['ssti', detectSsti],
  ['nosqli', detectNosqli],
  ['cmdi', detectCmdi],
  ['sqli', detectSqli],
];
/** Detector ids: their index in CONTENT_DETECTORS. */
const ENCODING = 0;
const XSS = 1;
const TRAVERSAL = 2;
const SSTI = 3;
const NOSQLI = 4;
const CMDI = 5;
const SQLI = 6;

/** Punctuation that gives a value SQL structure on its own (`-`, `/` and `(` are checked in context). */
const SQL_PUNCTUATION =
  C.quote | C.semicolon | C.pipe | C.amp | C.hash | C.equals | C.lt | C.gt | C.at | C.backtick;

/** Separators and substitutions: with none of them, cmdi only has the shell-path rules left. */
const CMDI_PUNCTUATION = C.semicolon | C.pipe | C.amp | C.newline | C.backtick | C.dollar | C.lt | C.gt;

/**
 * Per detector id at level 1: characters of which the value must contain one for its gate to
 * pass (a necessary condition read off gatePasses: one AND skips most detectors for most values).
 */
const NEEDS_LEVEL1: readonly number[] = [
  C.percent | C.control,
  C.lt | C.equals | C.colon,
  C.slash | C.backslash | C.percent | C.colon | C.nonAscii | C.dot,
  C.brace | C.lt | C.hash | C.at | C.dollar | C.bracket | C.underscore | C.paren,
  C.dollar | C.quote | C.equals | C.dot,
  CMDI_PUNCTUATION | C.slash | C.dot | C.minus,
  SQL_PUNCTUATION | C.minus | C.slash | C.paren | C.nonAscii | C.control | C.sqlWord | C.call,
];

/**
 * Whether a detector can fire at levels 1–2, from the characters present (the value is already
 * decoded and NFKC-normalised, so entities and full-width forms have become ASCII by now).
 * `value.lower` is made on first read: it is read only where the mask cannot decide. One switch
 * rather than a function per gate keeps the call site monomorphic.
 */
function gatePasses(id: number, level: Paranoia, m: number, value: NormalisedValue): boolean {
  switch (id) {
    case ENCODING:
      return (m & (C.percent | C.control)) !== 0;
    case XSS:
      return (m & (C.lt | C.equals | C.colon)) !== 0;
    case TRAVERSAL:
      return (
        (m & (C.slash | C.backslash | C.percent | C.colon | C.nonAscii)) !== 0 ||
        ((m & C.dot) !== 0 && (value.lower.includes('..') || value.lower.includes('.ini')))
      );
    case SSTI:
      return (
        (m & (C.brace | C.lt | C.hash | C.at | C.dollar | C.bracket | C.underscore)) !== 0 ||
        ((m & C.paren) !== 0 &&
          (value.lower.includes('getclass') ||
            value.lower.includes('java.lang') ||
            value.lower.includes('freemarker')))
      );
    case NOSQLI:
      return (
        (m & C.dollar) !== 0 ||
        ((m & C.quote) !== 0 && (m & C.semicolon) !== 0) ||
        ((m & C.equals) !== 0 && value.lower.includes('==')) ||
        ((m & C.dot) !== 0 && value.lower.includes('this.'))
      );
    case CMDI:
      if ((m & CMDI_PUNCTUATION) !== 0) return true;
      // At level 1 a value without separators can only match cmdi's shell-path rules
      // (`/bin/sh`, `cmd.exe`, `cmd /c`, `powershell -`), each of which needs `/`, `.` or `-`
      // besides its word, so the word checks wait for one of those (exact:
      // test/waf/prefilter.test.ts). Level 2 also reads a leading command word.
      if (level === 1 && (m & (C.slash | C.dot | C.minus)) === 0) return false;
      return value.lower.includes('sh') || value.lower.includes('cmd') || value.lower.includes('powershell');
    case SQLI:
      if (level === 1) return sqlGateLevel1(m, value);
      // level 2 reads whatever level 1 reads (its own gate is no superset: `1 or-1`, `?or-a*b`)
      return sqlGate(m, value.lower) || sqlGateLevel1(m, value);
    default:
      return true;
  }
}

/** A `(` right after a word character (`char(`, `x1(`): a `(` that opens the value has none, the search goes on. */
function adjacentParen(lower: string): boolean {
  for (let i = lower.indexOf('(', 1); i !== -1; i = lower.indexOf('(', i + 1)) {
    const c = lower.charCodeAt(i - 1);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) return true;
  }
  return false;
}

/** Exported for tests: the heuristic gate of level 2 (gatePasses also passes what the level-1 gate passes). */
export function sqlGate(mask: number, lower: string): boolean {
  return (
    sqlPunctuation(mask, lower) ||
    hasSqlWord(lower) ||
    ((mask & OTHER_BLANKS) !== 0 && blankSeparatedWord(lower)) ||
    statementStart(mask, lower)
  );
}

/**
 * A statement word first in the value or first after a `(`: where level 2's bare-statement rule
 * looks (`drop table users`, `(delete from users`).
 */
function statementStart(mask: number, lower: string): boolean {
  if (statementWordAt(lower, 0)) return true;
  if ((mask & C.paren) === 0) return false;
  for (let i = lower.indexOf('('); i !== -1; i = lower.indexOf('(', i + 1))
    if (statementWordAt(lower, i + 1)) return true;
  return false;
}

function sqlPunctuation(mask: number, lower: string): boolean {
  if ((mask & SQL_PUNCTUATION) !== 0) return true;
  if ((mask & C.minus) !== 0 && lower.includes('--')) return true;
  if ((mask & C.slash) !== 0 && lower.includes('/*')) return true;
  return (mask & C.paren) !== 0 && adjacentParen(lower);
}

/**
 * At level 1, without that punctuation (quotes above all), the SQL detector can only fire through
 * its unquoted reading, which needs an SQL signal word or a call as the lexer reads words (`1or`
 * is `1` and `or`): for ASCII values without NUL the mask says whether there is one, and only
 * then are detectSqli's own pre-checks read. The gate never skips a value detectSqli refuses at
 * level 1 (prefilter.test.ts).
 */
function sqlGateLevel1(mask: number, value: NormalisedValue): boolean {
  if ((mask & SQL_PUNCTUATION) !== 0) return true;
  if ((mask & (C.minus | C.slash | C.paren)) !== 0 && sqlPunctuation(mask, value.lower)) return true;
  if ((mask & (C.nonAscii | C.control | C.sqlWord | C.call)) === 0) return false;
  return mayBeSql(mask, value.lower) && needsPlainReading(value.lower, 1, mask);
}

/** Words that can make a value SQL without any punctuation (`1 union select null`, `1 or true`). */
function hasSqlWord(lower: string): boolean {
  // long values: a few native searches beat reading every character in JavaScript
  if (lower.length > 64) return SQL_WORDS.some((word) => lower.includes(word));
  // one pass over the first letters of the words that matter, instead of a search per word
  for (let i = 0; i < lower.length; i++) {
    switch (lower.charCodeAt(i)) {
      case 117: // u
        if (lower.startsWith('union', i)) return true;
        break;
      case 115: // s
        if (lower.startsWith('select', i) || lower.startsWith('sleep', i)) return true;
        break;
      case 119: // w
        if (lower.startsWith('waitfor', i)) return true;
        break;
      case 104: // h
        if (lower.startsWith('having', i)) return true;
        break;
      case 120: // x
        if (lower.startsWith('xor', i)) return true;
        break;
      case 32: // ' by ', ' or ', ' and '
        if (lower.startsWith(' by ', i) || lower.startsWith(' or ', i) || lower.startsWith(' and ', i))
          return true;
        break;
      default:
        break;
    }
  }
  return false;
}

/** The substrings hasSqlWord looks for. */
const SQL_WORDS = ['union', 'select', 'sleep', 'waitfor', 'having', 'xor', ' by ', ' or ', ' and '];

export interface InspectorOptions {
  readonly paranoia: Paranoia;
  readonly classes: ReadonlySet<AttackClass>;
}

/**
 * The compiled content checks for one route: which classes and at which level. `inspectValue`
 * normalises a value once and runs each enabled detector over it.
 */
export class Inspector {
  readonly paranoia: Paranoia;
  private readonly classes: readonly AttackClass[];
  private readonly detectors: readonly ContentDetector[];
  /** Per enabled detector: its id (index in CONTENT_DETECTORS). */
  private readonly ids: readonly number[];
  /** Levels 1–2 skip detectors by their gate; level 3 and up run them all. */
  private readonly gated: boolean;
  /** Per enabled detector: NEEDS_LEVEL1 at level 1, else 0 (no short cut). */
  private readonly needs: readonly number[];
  private readonly nosqlKeys: boolean;

  constructor(options: InspectorOptions) {
    this.paranoia = options.paranoia;
    const ids = [...CONTENT_DETECTORS.keys()].filter((id) =>
      options.classes.has((CONTENT_DETECTORS[id] as readonly [AttackClass, ContentDetector])[0]),
    );
    const enabled = ids.map((id) => CONTENT_DETECTORS[id] as readonly [AttackClass, ContentDetector]);
    this.classes = enabled.map(([cls]) => cls);
    this.detectors = enabled.map(([, detect]) => detect);
    this.ids = ids;
    this.gated = options.paranoia < 3;
    this.needs = ids.map((id) => (options.paranoia === 1 ? (NEEDS_LEVEL1[id] as number) : 0));
    this.nosqlKeys = options.classes.has('nosqli');
  }

  /**
   * `urlDecode`: true for values not yet percent-decoded by their transport (JSON strings,
   * headers). `skip`: classes excluded for this field.
   */
  inspectValue(raw: string, urlDecode: boolean, skip?: ReadonlySet<AttackClass>): Detection | undefined {
    if (raw.length < 2) return undefined;
    const value = normaliseValue(raw, urlDecode);
    const mask = value.mask;
    const level = this.paranoia;
    for (let i = 0; i < this.detectors.length; i++) {
      const cls = this.classes[i] as AttackClass;
      if (skip !== undefined && skip.has(cls)) continue;
      if (this.gated) {
        const need = this.needs[i] as number;
        if (need !== 0 && (mask & need) === 0) continue;
        if (!gatePasses(this.ids[i] as number, level, mask, value)) continue;
      }
      const rule = (this.detectors[i] as ContentDetector)(value.text, value.lower, level, value.hadNul, mask);
      if (rule !== undefined) return { class: cls, rule };
    }
    return undefined;
  }

  /** Object keys and query parameter names: NoSQL operators (`$ne`, `user[$gt]`). */
  inspectKey(key: string, skip?: ReadonlySet<AttackClass>): Detection | undefined {
    if (!this.nosqlKeys || skip?.has('nosqli') === true || !key.includes('$')) return undefined;
    const rule = operatorKey(key, this.paranoia);
    return rule === undefined ? undefined : { class: 'nosqli', rule };
  }
}
