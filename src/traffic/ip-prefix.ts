import { isIPv4, isIPv6 } from 'node:net';

/**
 * Groups a client address for limiting: IPv4 by `/v4Bits` (default /32, the address itself),
 * IPv6 by `/v6Bits` (default /64: one subscriber usually owns a whole /64, so per-address limits
 * would be trivial to dodge). IPv4-mapped IPv6 addresses count as IPv4.
 */
export function ipGroup(ip: string, v6Bits = 64, v4Bits = 32): string {
  // the common case, per request: an IPv4 address (or anything without a colon) kept whole
  if (v4Bits >= 32 && ip.indexOf(':') === -1) return ip;
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ipv4Group(ip.slice(7), v4Bits);
  if (isIPv4(ip)) return ipv4Group(ip, v4Bits);
  if (!isIPv6(ip)) return ip;
  const hextets = expandIPv6(ip);
  let out = '';
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, v6Bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out += (i === 0 ? '' : ':') + ((hextets[i] ?? 0) & mask).toString(16);
  }
  return `${out}/${v6Bits}`;
}

function ipv4Group(ip: string, bits: number): string {
  if (bits >= 32) return ip;
  const n = ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const masked = bits === 0 ? 0 : n - (n % 2 ** (32 - bits));
  return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${bits}`;
}

function expandIPv6(ip: string): number[] {
  let address = ip;
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  // a trailing dotted quad (::1.2.3.4) becomes two hextets
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(fill).fill('0'), ...right].map((h) => parseInt(h, 16));
}
