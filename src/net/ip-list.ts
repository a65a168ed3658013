import { BlockList, isIP } from 'node:net';

/** A set of addresses and CIDR ranges, IPv4 and IPv6. */
export interface IpList {
  has(ip: string): boolean;
}

// Answers remembered per list: BlockList.check builds a SocketAddress per call (~30 µs here, on every
// request for TRUST_PROXY and for policies' IP allow-lists), while a service sees few distinct peers.
// Bounded: when full it starts afresh, so addresses from X-Forwarded-For cannot grow it.
const REMEMBERED = 1024;
/** The longest text form of an address (IPv6 with an embedded IPv4 address). */
const MAX_REMEMBERED_LENGTH = 45;

/** Entries are IPs or CIDRs, validated by whoever accepted them (see isIpOrCidr). */
export function createIpList(entries: readonly string[]): IpList {
  if (entries.length === 0) return { has: () => false };
  const list = new BlockList();
  const answers = new Map<string, boolean>();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    has(ip) {
      const known = answers.get(ip);
      if (known !== undefined) return known;
      const family = isIP(ip);
      const answer = family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
      // Only address-sized keys: isIP accepts an IPv6 zone id of any length ("fe80::1%…").
      if (ip.length <= MAX_REMEMBERED_LENGTH) {
        if (answers.size >= REMEMBERED) answers.clear();
        answers.set(ip, answer);
      }
      return answer;
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
