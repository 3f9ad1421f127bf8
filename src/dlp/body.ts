import { applyMasks, findSensitive, maskCard, type DetectorId, type SensitiveMatch } from './detectors.js';
import { cardBrand, luhnValid } from './checksums.js';

export interface BodyScan {
  /** Detector ids found, with counts. */
  readonly found: ReadonlyMap<DetectorId, number>;
  /** The masked body, when masking changed something. */
  readonly masked: string | undefined;
}

function count(found: Map<DetectorId, number>, matches: readonly SensitiveMatch[]): void {
  for (const m of matches) found.set(m.detector, (found.get(m.detector) ?? 0) + 1);
}

/** Plain text (and anything not JSON): mask in place. */
export function scanText(text: string, detectors: readonly DetectorId[]): BodyScan {
  const matches = findSensitive(text, detectors);
  const found = new Map<DetectorId, number>();
  count(found, matches);
  return { found, masked: matches.length === 0 ? undefined : applyMasks(text, matches) };
}

/**
 * JSON: string values are masked where they are, integers that are card numbers become masked
 * strings, so the document stays valid JSON. Keys are left alone. Falls back to text when the
 * body does not parse.
 */
export function scanJsonText(text: string, detectors: readonly DetectorId[]): BodyScan {
  // most responses hold nothing sensitive: one pass over the raw text decides that
  const quick = findSensitive(text, detectors);
  const cardsAsNumbers = detectors.includes('card');
  if (quick.length === 0 && !cardsAsNumbers) return { found: new Map(), masked: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return scanText(text, detectors);
  }
  const found = new Map<DetectorId, number>();
  let changed = false;
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const matches = findSensitive(node, detectors);
      if (matches.length === 0) return node;
      count(found, matches);
      changed = true;
      return applyMasks(node, matches);
    }
    if (typeof node === 'number') {
      if (!cardsAsNumbers || !Number.isSafeInteger(node) || node < 1e12) return node;
      const digits = String(node);
      if (cardBrand(digits) === undefined || !luhnValid(digits)) return node;
      found.set('card', (found.get('card') ?? 0) + 1);
      changed = true;
      return maskCard(digits);
    }
    if (Array.isArray(node)) return node.map(visit);
    if (node !== null && typeof node === 'object') {
      const out = Object.create(null) as Record<string, unknown>; // "__proto__" stays a plain key
      for (const [k, v] of Object.entries(node)) out[k] = visit(v);
      return out;
    }
    return node;
  };
  if (quick.length === 0 && !/\d{12}/.test(text)) return { found, masked: undefined };
  const result = visit(value);
  return { found, masked: changed ? JSON.stringify(result) : undefined };
}
