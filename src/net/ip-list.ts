import { BlockList, isIP } from 'node:net';

/** A set of addresses and CIDR ranges, IPv4 and IPv6. */
export interface IpList {
  has(ip: string): boolean;
}

/** Entries are IPs or CIDRs, validated by whoever accepted them (see isIpOrCidr). */
export function createIpList(entries: readonly string[]): IpList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    has(ip) {
      const family = isIP(ip);
      if (family === 0) return false;
      return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** An IP address, or an address and a prefix length in range for its family ("10.0.0.0/8", "2001:db8::/32"). */
export function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 6 ? 128 : 32);
}
