const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62n;

/** Encodes bytes (or a non-negative integer) as base62, left-padded with `0` to `width` characters. */
export function toBase62(value: Uint8Array | bigint | number, width: number): string {
  let n =
    typeof value === 'bigint'
      ? value
      : typeof value === 'number'
        ? BigInt(value)
        : value.length === 0
          ? 0n
          : BigInt('0x' + Buffer.from(value).toString('hex'));
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % BASE)] + out;
    n /= BASE;
  }
  if (out.length > width) throw new RangeError(`value does not fit in ${width} base62 characters`);
  return out.padStart(width, '0');
}

/** Number of base62 characters needed for `bytes` random bytes. */
export function base62Width(bytes: number): number {
  return Math.ceil((bytes * 8) / Math.log2(62));
}
