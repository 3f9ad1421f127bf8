import type { AttackClass, Paranoia, RuleHit } from './classes.js';
import { C, charMask } from './char-mask.js';
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

/** Characters a detector needs (any of them) before it can fire at levels 1–2; undefined: always runs. */
const NEEDS: Readonly<Record<string, number>> = {
  encoding: C.percent | C.control,
  xss: C.lt | C.equals | C.colon | C.nonAscii | C.amp,
  traversal: C.dot | C.slash | C.backslash | C.percent | C.colon | C.nonAscii,
  ssti:
    C.brace |
    C.lt |
    C.hash |
    C.at |
    C.dollar |
    C.bracket |
    C.underscore |
    C.paren |
    C.nonAscii |
    C.quote |
    C.equals,
  nosqli: C.dollar | C.semicolon | C.equals | C.quote | C.dot,
  cmdi:
    C.semicolon |
    C.pipe |
    C.amp |
    C.newline |
    C.backtick |
    C.dollar |
    C.lt |
    C.gt |
    C.slash |
    C.dot |
    C.minus,
};

/** Words that can make a value SQL without any punctuation (`1 union select null`, `1 or true`). */
const SQL_PUNCTUATION =
  C.quote |
  C.semicolon |
  C.pipe |
  C.amp |
  C.hash |
  C.equals |
  C.lt |
  C.gt |
  C.at |
  C.backtick |
  C.paren |
  C.star |
  C.minus |
  C.slash |
  C.nonAscii;
function hasSqlWord(lower: string): boolean {
  return (
    lower.includes('union') ||
    lower.includes('select') ||
    lower.includes('sleep') ||
    lower.includes('waitfor') ||
    lower.includes('having') ||
    lower.includes(' by ') ||
    lower.includes(' or ') ||
    lower.includes(' and ') ||
    lower.includes('xor')
  );
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
    const mask = charMask(value.text) | (value.hadNul ? C.control : 0);
    const gated = this.paranoia < 3;
    for (const [cls, detect] of this.detectors) {
      if (skip?.has(cls) === true) continue;
      if (gated) {
        const needs = NEEDS[cls];
        if (needs !== undefined && (mask & needs) === 0) continue;
        if (cls === 'sqli' && (mask & SQL_PUNCTUATION) === 0 && !hasSqlWord(value.lower)) continue;
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
