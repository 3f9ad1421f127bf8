import type { AttackClass, Paranoia, RuleHit } from './classes.js';
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

/** Characters (besides letters for SQL words) that any detector needs to see before it can fire. */
function isPlain(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // letters, digits, space, and , . : ? ! _ @ + are harmless on their own
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 32) continue;
    if (c === 44 || c === 46 || c === 58 || c === 63 || c === 33 || c === 95 || c === 64 || c === 43)
      continue;
    return false;
  }
  return true;
}

/** Words that can make a value SQL without any punctuation (`1 union select null`). */
function hasSqlWord(value: string): boolean {
  const lower = value.toLowerCase();
  return (
    lower.includes('union') ||
    lower.includes('select') ||
    lower.includes('sleep') ||
    lower.includes('waitfor') ||
    lower.includes('having') ||
    lower.includes(' by ') ||
    lower.includes(' or ') ||
    lower.includes(' and ')
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
    if (this.paranoia < 3 && isPlain(raw) && !hasSqlWord(raw)) return undefined;
    const value = normaliseValue(raw, urlDecode);
    for (const [cls, detect] of this.detectors) {
      if (skip?.has(cls) === true) continue;
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
