import { isIP } from 'node:net';
import { createIpList, type IpList } from '../net/ip-list.ts';

// The client's address. The socket's peer is the only fact; X-Forwarded-For is a list any client
// can write. It is read only when the peer is a proxy we trust (TRUST_PROXY), and then from the
// right: each trusted proxy appended the address it received from, so the first address, walking
// leftwards, that is not a trusted proxy is the client. Whatever lies to its left was written by
// the client itself and is ignored.

const MAX_HOPS = 20;

export type TrustedProxies = IpList;

/** From TRUST_PROXY entries (IPs and CIDRs, already validated by the configuration). */
export function createTrustedProxies(entries: readonly string[]): TrustedProxies {
  return createIpList(entries);
}

/** `::ffff:192.0.2.1` -> `192.0.2.1`; anything that is not an IP address -> null. */
export function normalizeIp(value: string | null | undefined): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  const unmapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed)?.[1] ?? trimmed;
  return isIP(unmapped) === 0 ? null : unmapped;
}

export function resolveClientIp(peer: string | null | undefined, forwardedFor: string | null, trusted: TrustedProxies): string | null {
  let client = normalizeIp(peer);
  if (!client || !trusted.has(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(',').slice(-MAX_HOPS).reverse();
  for (const hop of hops) {
    const address = normalizeIp(hop);
    // A malformed entry: nothing left of it can be believed; the last proxy we trust is what we know.
    if (!address) return client;
    client = address;
    if (!trusted.has(address)) return address;
  }
  return client;
}
