import { cardBrand, ibanValid, luhnValid, ninoValid, ssnValid } from './checksums.js';
import { PATTERNS } from './patterns.js';

/** The detectors, by id. `DEFAULT_DETECTORS` is what a route gets when it lists none. */
export const DETECTOR_IDS = [
  'card',
  'ssn',
  'nino',
  'iban',
  'email',
  'privateKey',
  'awsAccessKey',
  'githubToken',
  'slackToken',
  'stripeKey',
  'googleApiKey',
  'jwt',
] as const;
export type DetectorId = (typeof DETECTOR_IDS)[number];

/** E-mail addresses and JWTs are legitimate in many responses (profiles, token endpoints): opt in. */
export const DEFAULT_DETECTORS: readonly DetectorId[] = DETECTOR_IDS.filter(
  (id) => id !== 'email' && id !== 'jwt',
);

export interface SensitiveMatch {
  readonly detector: DetectorId;
  readonly start: number;
  readonly end: number;
  /** What replaces the match when masking. */
  readonly replacement: string;
}

function redacted(id: DetectorId): string {
  return `[REDACTED:${id}]`;
}

/** Keeps the last four digits and the grouping: `**** **** **** 1111`. */
export function maskCard(text: string): string {
  let digitsSeen = 0;
  let total = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) total++;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digitsSeen++;
      out += digitsSeen > total - 4 ? text[i] : '*';
    } else {
      out += text[i];
    }
  }
  return out;
}

type Finder = (text: string, out: SensitiveMatch[]) => void;

function each(pattern: RegExp, text: string, visit: (m: RegExpExecArray) => void): void {
  pattern.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = pattern.exec(text)) !== null) visit(m);
}

function hasDigitRun(text: string, min: number): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= min) return true;
    } else if (c !== 32 && c !== 45) {
      run = 0;
    }
  }
  return false;
}

const FINDERS: Readonly<Record<DetectorId, Finder>> = {
  card(text, out) {
    if (!hasDigitRun(text, 13)) return;
    each(PATTERNS.card, text, (m) => {
      const raw = m[0];
      const hasSpace = raw.includes(' ');
      const hasDash = raw.includes('-');
      if (hasSpace && hasDash) return; // mixed separators: not how cards are written
      const digits = hasSpace || hasDash ? raw.replaceAll(hasSpace ? ' ' : '-', '') : raw;
      if (digits.length < 13 || digits.length > 19 || cardBrand(digits) === undefined || !luhnValid(digits))
        return;
      out.push({ detector: 'card', start: m.index, end: m.index + raw.length, replacement: maskCard(raw) });
    });
  },
  ssn(text, out) {
    if (!text.includes('-')) return;
    each(PATTERNS.ssn, text, (m) => {
      if (ssnValid(m[1] as string, m[2] as string, m[3] as string))
        out.push({
          detector: 'ssn',
          start: m.index,
          end: m.index + m[0].length,
          replacement: '***-**-' + (m[3] as string),
        });
    });
  },
  nino(text, out) {
    each(PATTERNS.nino, text, (m) => {
      if (ninoValid(m[1] as string))
        out.push({
          detector: 'nino',
          start: m.index,
          end: m.index + m[0].length,
          replacement: redacted('nino'),
        });
    });
  },
  iban(text, out) {
    each(PATTERNS.iban, text, (m) => {
      const raw = m[1] as string;
      if (ibanValid(raw.replaceAll(' ', ''))) {
        out.push({
          detector: 'iban',
          start: m.index,
          end: m.index + raw.length,
          replacement:
            raw.slice(0, 2) +
            '**' +
            '*'.repeat(Math.max(0, raw.replaceAll(' ', '').length - 8)) +
            raw.replaceAll(' ', '').slice(-4),
        });
      }
    });
  },
  email(text, out) {
    if (!text.includes('@')) return;
    each(PATTERNS.email, text, (m) =>
      out.push({
        detector: 'email',
        start: m.index,
        end: m.index + m[0].length,
        replacement: redacted('email'),
      }),
    );
  },
  privateKey(text, out) {
    if (!text.includes('-----BEGIN')) return;
    let from = 0;
    each(PATTERNS.privateKeyBegin, text, (m) => {
      if (m.index < from) return;
      const endMarker = text.indexOf('-----END', m.index + m[0].length);
      let end = text.length;
      if (endMarker !== -1) {
        const close = text.indexOf('-----', endMarker + 8);
        end = close === -1 ? text.length : close + 5;
      }
      from = end;
      out.push({ detector: 'privateKey', start: m.index, end, replacement: redacted('privateKey') });
      PATTERNS.privateKeyBegin.lastIndex = end;
    });
  },
  awsAccessKey: simple('awsAccessKey', [
    'AKIA',
    'ASIA',
    'ABIA',
    'ACCA',
    'AGPA',
    'AIDA',
    'AROA',
    'ANPA',
    'ANVA',
    'AIPA',
  ]),
  githubToken: simple('githubToken', ['gh', 'github_pat_']),
  slackToken: simple('slackToken', ['xox']),
  stripeKey: simple('stripeKey', ['_live_']),
  googleApiKey: simple('googleApiKey', ['AIza']),
  jwt: simple('jwt', ['eyJ']),
};

function simple(id: DetectorId & keyof typeof PATTERNS, markers: readonly string[]): Finder {
  const pattern = PATTERNS[id];
  return (text, out) => {
    if (!markers.some((marker) => text.includes(marker))) return;
    each(pattern, text, (m) =>
      out.push({ detector: id, start: m.index, end: m.index + m[0].length, replacement: redacted(id) }),
    );
  };
}

/** Finds every sensitive value of the given kinds in `text`, sorted and without overlaps. */
export function findSensitive(text: string, detectors: readonly DetectorId[]): SensitiveMatch[] {
  const out: SensitiveMatch[] = [];
  for (const id of detectors) FINDERS[id](text, out);
  if (out.length <= 1) return out;
  out.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: SensitiveMatch[] = [];
  let end = -1;
  for (const match of out) {
    if (match.start >= end) {
      kept.push(match);
      end = match.end;
    }
  }
  return kept;
}

export function applyMasks(text: string, matches: readonly SensitiveMatch[]): string {
  if (matches.length === 0) return text;
  let out = '';
  let last = 0;
  for (const match of matches) {
    out += text.slice(last, match.start) + match.replacement;
    last = match.end;
  }
  return out + text.slice(last);
}
