import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The client a per-IP limit counts. One IPv6 subscriber usually holds a whole /64, so IPv6
 * addresses count by their /64; IPv4 addresses count one by one.
 */
export function ipSubject(ip: string | null): string {
  if (!ip) return 'unknown';
  const address = ip.split('%')[0] ?? '';
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

/** The account an attempt targets, however the caller spelled it (case, surrounding spaces). */
export function accountSubject(raw: string): string {
  return raw.trim().toLowerCase();
}

/**
 * Store keys are keyed hashes, so Redis (or a memory dump) holds no emails, IP addresses or token
 * ids, and nobody without the SECRET can test a guess against them.
 */
export function createSubjectHasher(secret: string): (...parts: string[]) => string {
  return (...parts) => createHmac('sha256', secret).update(parts.join('\u0000')).digest('base64url').slice(0, 27);
}
