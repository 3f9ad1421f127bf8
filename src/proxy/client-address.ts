import { BlockList, isIP } from 'node:net';

/** Which peers are trusted to report the client address (`trustedProxies` CIDRs). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[] = []) {
    this.empty = cidrs.length === 0;
    for (const cidr of cidrs) addCidr(this.list, cidr);
  }

  trusts(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address: the socket peer, unless that peer is a trusted proxy, in which case
   * `X-Forwarded-For` is walked from the right, skipping trusted proxies.
   */
  clientAddress(peer: string, forwardedFor: string | string[] | undefined): string {
    if (!this.trusts(peer) || forwardedFor === undefined) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = stripPort(hops[i]!.trim());
      if (isIP(hop) === 0) return peer;
      if (!this.trusts(hop)) return hop;
    }
    return peer;
  }
}

export function addCidr(list: BlockList, cidr: string): void {
  const [address, prefixText] = cidr.split('/');
  const family = isIP(address ?? '');
  if (family === 0) throw new TypeError(`"${cidr}" is not an IP address or CIDR`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefixText === undefined) {
    list.addAddress(address!, type);
    return;
  }
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
    throw new TypeError(`"${cidr}" has an invalid prefix length`);
  }
  list.addSubnet(address!, prefix, type);
}

/** Normalises `::ffff:1.2.3.4` to `1.2.3.4`. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function stripPort(hop: string): string {
  if (hop.startsWith('[')) return hop.slice(1, hop.indexOf(']'));
  const colon = hop.indexOf(':');
  return colon !== -1 && hop.indexOf(':', colon + 1) === -1 ? hop.slice(0, colon) : hop;
}
