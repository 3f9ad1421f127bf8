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

type ContentDetector = (text: string, lower: string, level: Paranoia, hadNul: boolean) => RuleHit;

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

/**
 * Whether a detector can fire at levels 1–2, from the characters present (the value is already
 * decoded and NFKC-normalised, so entities and full-width forms have become ASCII by now).
 */
const GATES: Readonly<Record<string, (mask: number, lower: string) => boolean>> = {
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
  cmdi: (m, lower) =>
    (m & (C.semicolon | C.pipe | C.amp | C.newline | C.backtick | C.dollar | C.lt | C.gt)) !== 0 ||
    lower.includes('sh') ||
    lower.includes('cmd') ||
    lower.includes('powershell'),
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

function sqlGate(mask: number, lower: string): boolean {
  if ((mask & SQL_PUNCTUATION) !== 0) return true;
  if ((mask & C.minus) !== 0 && lower.includes('--')) return true;
  if ((mask & C.slash) !== 0 && lower.includes('/*')) return true;
  if ((mask & C.paren) !== 0 && adjacentParen(lower)) return true;
  return hasSqlWord(lower);
}

/** Words that can make a value SQL without any punctuation (`1 union select null`, `1 or true`). */
function hasSqlWord(lower: string): boolean {
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
  private readonly detectors: readonly (readonly [AttackClass, ContentDetector])[];
  private readonly nosqlKeys: boolean;

  constructor(options: InspectorOptions) {
    this.paranoia = options.paranoia;
    this.detectors = CONTENT_DETECTORS.filter(([cls]) => options.classes.has(cls));
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
    const gated = this.paranoia < 3;
    for (const [cls, detect] of this.detectors) {
      if (skip?.has(cls) === true) continue;
      if (gated) {
        const gate = GATES[cls];
        if (gate !== undefined && !gate(mask, value.lower)) continue;
        if (cls === 'sqli' && !sqlGate(mask, value.lower)) continue;
      }
      const rule = detect(value.text, value.lower, this.paranoia, value.hadNul);
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
