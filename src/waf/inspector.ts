import type { AttackClass, Paranoia, RuleHit } from './classes.js';
import { C } from './char-mask.js';
import { detectCmdi } from './cmdi.js';
import { detectEncoding } from './encoding.js';
import { normaliseValue } from './normalise.js';
import { detectNosqli, operatorKey } from './nosqli.js';
import { detectSqli } from './sqli.js';
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
type Gate = (mask: number, lower: string) => boolean;

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

/** Separators and substitutions: with none of them, cmdi only has the shell-path rules left. */
const CMDI_PUNCTUATION = C.semicolon | C.pipe | C.amp | C.newline | C.backtick | C.dollar | C.lt | C.gt;

/**
 * Whether a detector can fire at levels 1–2, from the characters present (the value is already
 * decoded and NFKC-normalised, so entities and full-width forms have become ASCII by now).
 */
const GATES: Readonly<Record<string, Gate>> = {
  encoding: (m) => (m & (C.percent | C.control)) !== 0,
  xss: (m) => (m & (C.lt | C.equals | C.colon)) !== 0,
  traversal: (m, lower) =>
    (m & (C.slash | C.backslash | C.percent | C.colon | C.nonAscii)) !== 0 ||
    ((m & C.dot) !== 0 && (lower.includes('..') || lower.includes('.ini'))),
  ssti: (m, lower) =>
    (m & (C.brace | C.lt | C.hash | C.at | C.dollar | C.bracket | C.underscore)) !== 0 ||
    ((m & C.paren) !== 0 &&
      (lower.includes('getclass') || lower.includes('java.lang') || lower.includes('freemarker'))),
  nosqli: (m, lower) =>
    (m & C.dollar) !== 0 ||
    ((m & C.quote) !== 0 && (m & C.semicolon) !== 0) ||
    ((m & C.equals) !== 0 && lower.includes('==')) ||
    ((m & C.dot) !== 0 && lower.includes('this.')),
  // level 2 also reads a leading command word: the word checks stay for it
  cmdi: (m, lower) =>
    (m & CMDI_PUNCTUATION) !== 0 ||
    lower.includes('sh') ||
    lower.includes('cmd') ||
    lower.includes('powershell'),
  sqli: sqlGate,
};

/**
 * At level 1 a value without separators can only match cmdi's shell-path rules (`/bin/sh`,
 * `cmd.exe`, `cmd /c`, `powershell -`), each of which needs `/`, `.` or `-` besides its word, so
 * the word checks wait for one of those (exact: test/waf/prefilter.test.ts).
 */
const GATES_LEVEL1: Readonly<Record<string, Gate>> = {
  ...GATES,
  sqli: sqlGateLevel1,
  cmdi: (m, lower) =>
    (m & CMDI_PUNCTUATION) !== 0 ||
    ((m & (C.slash | C.dot | C.minus)) !== 0 &&
      (lower.includes('sh') || lower.includes('cmd') || lower.includes('powershell'))),
};

/** Punctuation that gives a value SQL structure on its own (`-`, `/` and `(` are checked in context). */
const SQL_PUNCTUATION =
  C.quote | C.semicolon | C.pipe | C.amp | C.hash | C.equals | C.lt | C.gt | C.at | C.backtick;

function adjacentParen(lower: string): boolean {
  for (let i = lower.indexOf('('); i > 0; i = lower.indexOf('(', i + 1)) {
    const c = lower.charCodeAt(i - 1);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) return true;
  }
  return false;
}

/** Exported for tests: the gate at level 2 (and the reference for the level-1 short cut). */
export function sqlGate(mask: number, lower: string): boolean {
  return sqlPunctuation(mask, lower) || hasSqlWord(lower);
}

function sqlPunctuation(mask: number, lower: string): boolean {
  if ((mask & SQL_PUNCTUATION) !== 0) return true;
  if ((mask & C.minus) !== 0 && lower.includes('--')) return true;
  if ((mask & C.slash) !== 0 && lower.includes('/*')) return true;
  return (mask & C.paren) !== 0 && adjacentParen(lower);
}

/**
 * At level 1, without that punctuation, the SQL detector can only fire through its unquoted
 * reading, which needs an SQL signal word or a call (adjacentParen misses a `(` at the start):
 * for ASCII values without NUL the mask says whether there is one, and hasSqlWord is read only
 * then (same verdicts as sqlGate: prefilter.test.ts).
 */
function sqlGateLevel1(mask: number, lower: string): boolean {
  if (sqlPunctuation(mask, lower)) return true;
  if ((mask & (C.nonAscii | C.control | C.sqlWord | C.call)) === 0) return false;
  return hasSqlWord(lower);
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
  /** Per detector: the gate for this level, or undefined when it always runs (level 3 and up). */
  private readonly gates: readonly (Gate | undefined)[];
  private readonly nosqlKeys: boolean;

  constructor(options: InspectorOptions) {
    this.paranoia = options.paranoia;
    const enabled = CONTENT_DETECTORS.filter(([cls]) => options.classes.has(cls));
    const gates = options.paranoia === 1 ? GATES_LEVEL1 : GATES;
    this.classes = enabled.map(([cls]) => cls);
    this.detectors = enabled.map(([, detect]) => detect);
    this.gates = enabled.map(([cls]) => (options.paranoia < 3 ? gates[cls] : undefined));
    this.nosqlKeys = options.classes.has('nosqli');
  }

  /**
   * `urlDecode`: true for values not yet percent-decoded by their transport (JSON strings,
   * headers). `skip`: classes excluded for this field.
   */
  inspectValue(raw: string, urlDecode: boolean, skip?: ReadonlySet<AttackClass>): Detection | undefined {
    if (raw.length < 2) return undefined;
    const value = normaliseValue(raw, urlDecode);
    const { text, lower, hadNul, mask } = value;
    const level = this.paranoia;
    for (let i = 0; i < this.detectors.length; i++) {
      const cls = this.classes[i] as AttackClass;
      if (skip !== undefined && skip.has(cls)) continue;
      const gate = this.gates[i];
      if (gate !== undefined && !gate(mask, lower)) continue;
      const rule = (this.detectors[i] as ContentDetector)(text, lower, level, hadNul, mask);
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
