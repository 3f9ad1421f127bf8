import type { Paranoia, RuleHit } from './classes.js';

/**
 * Evasion signals (cf. CRS 920230 multiple URL encoding, 920270 NUL and invalid characters).
 * Inputs are decoded exactly once. A value that, after that one decode, still carries a
 * percent-encoded metacharacter was encoded twice: a back end that decodes again would see the
 * metacharacter the detectors never saw. We flag such values instead of decoding a second time
 * (a second decode would also turn a literal `%27` in honest text into a quote).
 */

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Characters whose encoded form surviving one decode is an evasion attempt. */
const LEVEL1 = new Set(["'", '"', '<', '>', '`', '\0', '%', ';', '|', '$', '{', '\\', '\n', '\r', '\t']);
const LEVEL2 = new Set(['(', ')', '&', '.', '=', '/', '#', '+', ' ']);

export function detectEncoding(text: string, _lower: string, level: Paranoia, hadNul: boolean): RuleHit {
  if (hadNul) return 'encoding.nul-byte';
  let at = text.indexOf('%');
  while (at !== -1) {
    const hi = hexValue(text.charCodeAt(at + 1));
    const lo = hexValue(text.charCodeAt(at + 2));
    if (hi >= 0 && lo >= 0) {
      const ch = String.fromCharCode(hi * 16 + lo);
      if (LEVEL1.has(ch)) return 'encoding.double-encoded';
      if (level >= 2 && LEVEL2.has(ch)) return 'encoding.double-encoded';
      // %c0%ae: an overlong UTF-8 form of `.` that lenient decoders accept
      if ((ch === '\xc0' || ch === '\xc1') && text.charCodeAt(at + 3) === 37) return 'encoding.overlong-utf8';
    } else if ((text.charCodeAt(at + 1) | 32) === 117) {
      // %u0027: IIS-style encoding nothing standard decodes
      let ok = true;
      for (let k = 2; k < 6; k++) if (hexValue(text.charCodeAt(at + k)) < 0) ok = false;
      if (ok) return 'encoding.unicode-escape';
    }
    at = text.indexOf('%', at + 1);
  }
  return undefined;
}
