import { applyMasks, DETECTOR_IDS, findSensitive, type DetectorId } from './detectors.js';

/** What the logger masks: every detector except e-mail addresses (logs name consumers by e-mail). */
export const LOG_DETECTORS: readonly DetectorId[] = DETECTOR_IDS.filter((id) => id !== 'email');

function worthScanning(text: string): boolean {
  // every detector needs a run of digits, an upper-case letter, `@`, `_`, `-` or `.`: skip short plain words fast
  return text.length >= 9;
}

/**
 * Masks sensitive values in a string: card numbers keep their last four digits, SSNs their
 * serial, IBANs their country and last four; secrets and keys become `[REDACTED:<kind>]`.
 * Meant for log values: cheap when there is nothing to mask.
 */
export function maskSensitive(text: string, detectors: readonly DetectorId[] = LOG_DETECTORS): string {
  if (!worthScanning(text)) return text;
  return applyMasks(text, findSensitive(text, detectors));
}
