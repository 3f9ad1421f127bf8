/**
 * One pass over a value records which metacharacters it contains, so each detector can be
 * skipped when none of the characters it needs is present (most honest text has few).
 */
export const C = {
  quote: 1 << 0, // ' "
  semicolon: 1 << 1,
  pipe: 1 << 2,
  amp: 1 << 3,
  dollar: 1 << 4,
  lt: 1 << 5,
  gt: 1 << 6,
  paren: 1 << 7,
  brace: 1 << 8,
  bracket: 1 << 9,
  backslash: 1 << 10,
  slash: 1 << 11,
  percent: 1 << 12,
  hash: 1 << 13,
  equals: 1 << 14,
  star: 1 << 15,
  newline: 1 << 16, // \n \r
  colon: 1 << 17,
  at: 1 << 18,
  backtick: 1 << 19,
  dot: 1 << 20,
  minus: 1 << 21,
  underscore: 1 << 22,
  nonAscii: 1 << 23,
  control: 1 << 24, // other C0 controls, NUL
} as const;

const TABLE = new Int32Array(128);
const set = (chars: string, bit: number): void => {
  for (const ch of chars) TABLE[ch.charCodeAt(0)] = (TABLE[ch.charCodeAt(0)] ?? 0) | bit;
};
set('\'"', C.quote);
set(';', C.semicolon);
set('|', C.pipe);
set('&', C.amp);
set('$', C.dollar);
set('<', C.lt);
set('>', C.gt);
set('()', C.paren);
set('{}', C.brace);
set('[]', C.bracket);
set('\\', C.backslash);
set('/', C.slash);
set('%', C.percent);
set('#', C.hash);
set('=', C.equals);
set('*', C.star);
set('\n\r', C.newline);
set(':', C.colon);
set('@', C.at);
set('`', C.backtick);
set('.', C.dot);
set('-', C.minus);
set('_', C.underscore);
for (let c = 0; c < 32; c++) if (c !== 9 && c !== 10 && c !== 13) TABLE[c] = C.control;

export function charMask(value: string): number {
  let mask = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    mask |= c < 128 ? (TABLE[c] as number) : C.nonAscii;
  }
  return mask;
}
