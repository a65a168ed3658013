import { describe, expect, it } from 'vitest';
import { buildResetLink } from './reset-url.ts';

const allow = ['https://app.example.com/reset', 'http://localhost:3000/auth/reset', 'https://app.example.com/fr/reset?lang=fr'];
const fallback = 'https://app.example.com/reset';

describe('buildResetLink', () => {
  it("adds the token to the allow-list entry the URL equals, keeping only the entry's own query", () => {
    expect(buildResetLink(undefined, allow, fallback, 'T')).toBe('https://app.example.com/reset?token=T');
    expect(buildResetLink('https://APP.example.com:443/reset', allow, fallback, 'T')).toBe('https://app.example.com/reset?token=T');
    expect(buildResetLink('http://localhost:3000/auth/reset', allow, fallback, 'T')).toBe('http://localhost:3000/auth/reset?token=T');
    expect(buildResetLink('https://app.example.com/fr/reset?lang=fr', allow, fallback, 'T')).toBe(
      'https://app.example.com/fr/reset?lang=fr&token=T',
    );
    expect(buildResetLink(undefined, ['https://app.example.com/r?token=old&a=1'], 'https://app.example.com/r?token=old&a=1', 'T')).toBe(
      'https://app.example.com/r?token=T&a=1',
    );
  });

  it.each([
    'https://app.example.com.evil.com/reset',
    'https://app.example.com/reset/',
    'https://app.example.com/Reset',
    'http://localhost:3001/auth/reset',
    'https://x@app.example.com/reset',
    '//evil.com/reset',
    '/reset',
    'data:text/html,hi',
    'https://app.example.com/reset?next=https://evil.example/',
    'https://app.example.com/reset?token=evil',
    'https://app.example.com/fr/reset',
    'https://app.example.com/fr/reset?lang=de',
    'https://app.example.com/fr/reset?lang=fr&next=https://evil.example/',
  ])('refuses %s', (url) => {
    expect(() => buildResetLink(url, allow, fallback, 'T')).toThrow(/resetUrl/);
  });
});
