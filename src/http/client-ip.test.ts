import { describe, expect, it } from 'vitest';
import { createTrustedProxies, normalizeIp, resolveClientIp } from './client-ip.ts';

const none = createTrustedProxies([]);
const proxies = createTrustedProxies(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);

describe('client IP', () => {
  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(resolveClientIp('198.51.100.7', '203.0.113.9', none)).toBe('198.51.100.7');
    expect(resolveClientIp('::ffff:198.51.100.7', null, none)).toBe('198.51.100.7');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(resolveClientIp('198.51.100.7', '203.0.113.9', proxies)).toBe('198.51.100.7');
  });

  it('walks from the right past trusted proxies to the first untrusted address', () => {
    expect(resolveClientIp('10.0.0.5', '203.0.113.9', proxies)).toBe('203.0.113.9');
    expect(resolveClientIp('10.0.0.5', '203.0.113.9, 192.0.2.1, 10.1.2.3', proxies)).toBe('203.0.113.9');
    expect(resolveClientIp('2001:db8::1', '2001:db9::7, 2001:db8:ffff::1', proxies)).toBe('2001:db9::7');
  });

  it('ignores what a client wrote to the left of the address our proxy saw', () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; our proxy appended the real peer.
    expect(resolveClientIp('10.0.0.5', '6.6.6.6, 203.0.113.9', proxies)).toBe('203.0.113.9');
  });

  it('stops at a malformed entry with the last address it could believe', () => {
    expect(resolveClientIp('10.0.0.5', 'garbage, 10.1.2.3', proxies)).toBe('10.1.2.3');
    expect(resolveClientIp('10.0.0.5', '203.0.113.9, not-an-ip', proxies)).toBe('10.0.0.5');
  });

  it('falls back to the leftmost address when every hop is a trusted proxy', () => {
    expect(resolveClientIp('10.0.0.5', '10.9.9.9, 10.1.2.3', proxies)).toBe('10.9.9.9');
  });

  it('normalizes IPv4-mapped addresses and refuses non-addresses', () => {
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp(' 2001:db8::1 ')).toBe('2001:db8::1');
    expect(normalizeIp('localhost')).toBeNull();
    expect(normalizeIp('')).toBeNull();
  });
});
