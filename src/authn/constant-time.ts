/**
 * Constant-time equality of `presented.slice(offset)` with a known string, without the slice:
 * the time depends on the known string's length only, never on where the two first differ. No
 * early exit and no branch on the characters (`charCodeAt` past the end gives NaN, which `^`
 * turns into 0, and the length check catches the difference).
 */
export function stringsEqual(presented: string, known: string, offset = 0): boolean {
  let diff = (presented.length - offset) ^ known.length;
  for (let i = 0; i < known.length; i++) diff |= presented.charCodeAt(offset + i) ^ known.charCodeAt(i);
  return diff === 0;
}
