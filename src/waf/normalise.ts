import { C, charMask } from './char-mask.js';

/**
 * Turns a value that its transport already decoded once (query/form/cookie percent-decoding,
 * JSON string escapes) into the form the detectors match: HTML character references decoded,
 * Unicode NFKC-normalised, NUL removed. Each step runs once; nothing is decoded twice.
 */
export interface NormalisedValue {
  readonly text: string;
  /** Lower-case copy for case-insensitive matching. */
  readonly lower: string;
  /** The raw value contained a NUL character (removed from `text`). */
  readonly hadNul: boolean;
  /** Metacharacters present (`char-mask.ts`), so detectors can be skipped cheaply. */
  readonly mask: number;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  colon: ':',
  semi: ';',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  grave: '`',
  excl: '!',
  num: '#',
  dollar: '$',
  percnt: '%',
  period: '.',
  comma: ',',
  equals: '=',
  plus: '+',
  ast: '*',
  verbar: '|',
  vert: '|',
  tab: '\t',
  newline: '\n',
  nbsp: '\u00a0',
  lowbar: '_',
  quest: '?',
  commat: '@',
  hat: '^',
};

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Decodes HTML character references once (`&lt;`, `&#60;`, `&#x3c;`, also without the `;` as browsers do). */
export function decodeHtmlEntities(input: string): string {
  let amp = input.indexOf('&');
  if (amp === -1) return input;
  let out = '';
  let last = 0;
  while (amp !== -1) {
    let end = amp + 1;
    let replacement: string | undefined;
    if (input.charCodeAt(end) === 35 /* # */) {
      end++;
      const hex = input.charCodeAt(end) === 120 || input.charCodeAt(end) === 88;
      if (hex) end++;
      const start = end;
      while (
        end < input.length &&
        end - start < 8 &&
        (hex ? isHexDigit(input.charCodeAt(end)) : isDigit(input.charCodeAt(end)))
      )
        end++;
      if (end > start) {
        const code = Number.parseInt(input.slice(start, end), hex ? 16 : 10);
        replacement = code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
        if (input.charCodeAt(end) === 59 /* ; */) end++;
      }
    } else {
      const start = end;
      while (end < input.length && end - start < 10 && isAlnum(input.charCodeAt(end))) end++;
      const name = input.slice(start, end).toLowerCase();
      const value = NAMED_ENTITIES[name];
      if (value !== undefined && input.charCodeAt(end) === 59) {
        replacement = value;
        end++;
      } else if (
        value !== undefined &&
        (name === 'lt' || name === 'gt' || name === 'amp' || name === 'quot')
      ) {
        replacement = value;
      }
    }
    if (replacement !== undefined) {
      out += input.slice(last, amp) + replacement;
      last = end;
    }
    amp = input.indexOf('&', replacement === undefined ? amp + 1 : end);
  }
  return out + input.slice(last);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Percent-decodes once, leniently: invalid escapes stay as they are and invalid UTF-8 becomes
 * U+FFFD (as WHATWG URL parsing does). `+` is left alone (only form encoding means space).
 */
export function percentDecodeOnce(input: string): string {
  let at = input.indexOf('%');
  if (at === -1) return input;
  let out = '';
  let last = 0;
  while (at !== -1) {
    const bytes: number[] = [];
    let j = at;
    while (input.charCodeAt(j) === 37) {
      const hi = hexValue(input.charCodeAt(j + 1));
      const lo = hexValue(input.charCodeAt(j + 2));
      if (hi < 0 || lo < 0) break;
      bytes.push(hi * 16 + lo);
      j += 3;
    }
    if (bytes.length > 0) {
      out += input.slice(last, at) + Buffer.from(bytes).toString('utf8');
      last = j;
      at = input.indexOf('%', j);
    } else {
      at = input.indexOf('%', at + 1);
    }
  }
  return out + input.slice(last);
}

/** The lower-case copy is made on first use: most values pass no gate that reads it. */
class Normalised implements NormalisedValue {
  readonly text: string;
  readonly hadNul: boolean;
  readonly mask: number;
  private lowerCase: string | undefined;

  constructor(text: string, hadNul: boolean, mask: number) {
    this.text = text;
    this.hadNul = hadNul;
    this.mask = mask;
  }

  get lower(): string {
    return (this.lowerCase ??= this.text.toLowerCase());
  }
}

/**
 * `urlDecode`: the value has not been percent-decoded by its transport (JSON strings, headers);
 * values from the query string, form bodies, cookies and path parameters already were.
 */
export function normaliseValue(raw: string, urlDecode = false): NormalisedValue {
  // the mask says whether there is a `%` or `&` to decode at all (most values have neither);
  // it is computed again only when a decoding changed the text
  let text = raw;
  let mask = charMask(text);
  if (urlDecode && (mask & C.percent) !== 0) {
    const decoded = percentDecodeOnce(text);
    if (decoded !== text) {
      text = decoded;
      mask = charMask(text);
    }
  }
  if ((mask & C.amp) !== 0) {
    const decoded = decodeHtmlEntities(text);
    if (decoded !== text) {
      text = decoded;
      mask = charMask(text);
    }
  }
  if ((mask & C.nonAscii) !== 0) {
    const folded = text.normalize('NFKC');
    // most non-ASCII text is already in NFKC form: its mask is the one just computed
    if (folded !== text) {
      text = folded;
      mask = charMask(text);
    }
  }
  const hadNul = (mask & C.control) !== 0 && text.includes('\0');
  if (hadNul) text = text.replaceAll('\0', '');
  return new Normalised(text, hadNul, hadNul ? mask | C.control : mask);
}
