import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Addresses a server-side request must never reach on behalf of a client: loopback, private
 * (RFC 1918, ULA), link-local (cloud metadata lives at 169.254.169.254 and fd00:ec2::254), CGNAT,
 * unspecified, multicast, reserved and documentation ranges.
 */
const V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const V6: readonly (readonly [string, number])[] = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2001::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const blockList = new BlockList();
for (const [net, prefix] of V4) blockList.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of V6) blockList.addSubnet(net, prefix, 'ipv6');

/** Expands an IPv6 address into its eight 16-bit groups (WHATWG URL serialises it canonically first). */
function ipv6Groups(address: string): number[] | undefined {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', rest] = canonical.split('::');
  const h = head === '' ? [] : head.split(':').map((g) => Number.parseInt(g, 16));
  const r = rest === undefined || rest === '' ? [] : rest.split(':').map((g) => Number.parseInt(g, 16));
  const missing = 8 - h.length - r.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...h, ...new Array<number>(missing).fill(0), ...r];
}

/** The IPv4 address embedded in IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms. */
export function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (g === undefined || g.length !== 8) return undefined;
  const v4 = (a: number, b: number): string => `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0) && (g6 !== 0 || g7 > 1)) return v4(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return undefined;
}

/** True when `address` (a literal IPv4 or IPv6 address) is not a public unicast address. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.startsWith('[') ? address.slice(1, -1) : address;
  const zoneless = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  if (isIPv4(zoneless)) return blockList.check(zoneless, 'ipv4');
  if (!isIPv6(zoneless)) return true;
  const inner = embeddedIPv4(zoneless);
  if (inner !== undefined && blockList.check(inner, 'ipv4')) return true;
  return blockList.check(zoneless, 'ipv6');
}
