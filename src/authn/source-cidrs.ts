import { BlockList, isIP } from 'node:net';

/** A compiled allow-list of source addresses (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`). */
export interface SourceAllowList {
  allows(ip: string): boolean;
}

/** Throws TypeError naming the first bad entry. */
export function compileSourceCidrs(cidrs: readonly string[]): SourceAllowList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = '', bits, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new TypeError(`not an IP address or CIDR: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128))
      throw new TypeError(`bad prefix length: ${entry}`);
    list.addSubnet(address, prefix, type);
  }
  return {
    allows(ip: string): boolean {
      const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
      const family = isIP(address);
      if (family === 0) return false;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
