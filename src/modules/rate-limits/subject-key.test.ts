import { describe, expect, it } from 'vitest';
import { accountSubject, createSubjectHasher, ipSubject } from './subject-key.ts';

describe('ipSubject', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [null, 'unknown'],
  ])('counts %s as %s', (ip, subject) => {
    expect(ipSubject(ip)).toBe(subject);
  });
});

describe('subject keys', () => {
  it('treat case and surrounding spaces of an account alike', () => {
    expect(accountSubject('  Alice@Example.TEST ')).toBe(accountSubject('alice@example.test'));
  });

  it('hash with the secret, so keys reveal neither the subject nor match across secrets', () => {
    const a = createSubjectHasher('secret-a'.repeat(4));
    const b = createSubjectHasher('secret-b'.repeat(4));
    expect(a('login', 'alice@example.test')).toBe(a('login', 'alice@example.test'));
    expect(a('login', 'alice@example.test')).not.toContain('alice');
    expect(a('login', 'alice@example.test')).not.toBe(b('login', 'alice@example.test'));
    expect(a('login', 'ab')).not.toBe(a('login', 'a', 'b'));
  });
});
