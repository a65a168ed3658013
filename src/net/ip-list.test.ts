import { describe, expect, it } from 'vitest';
import { createIpList } from './ip-list.ts';

describe('IP list', () => {
  it('gives the same answers when asked again, also after more distinct addresses than it remembers', () => {
    const list = createIpList(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
    const asked = Array.from({ length: 3000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
    for (const round of [1, 2]) {
      expect(
        asked.every((ip) => list.has(ip)),
        `round ${round}`,
      ).toBe(true);
      expect(list.has('11.0.0.1')).toBe(false);
      expect(list.has('192.0.2.1')).toBe(true);
      expect(list.has('192.0.2.2')).toBe(false);
      expect(list.has('2001:db8::7')).toBe(true);
      expect(list.has('2001:db9::7')).toBe(false);
      expect(list.has('2001:DB8::7')).toBe(true);
      // The same address written as IPv4-mapped IPv6.
      expect(list.has('::ffff:10.1.2.3')).toBe(true);
      expect(list.has(`fe80::1%${'x'.repeat(10_000)}`)).toBe(false);
      expect(list.has('not an address')).toBe(false);
    }
  });

  it('holds nothing when empty', () => {
    expect(createIpList([]).has('127.0.0.1')).toBe(false);
  });
});
