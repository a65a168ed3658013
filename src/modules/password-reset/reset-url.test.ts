import { describe, expect, it } from 'vitest';
import { buildResetLink } from './reset-url.ts';

const allow = ['https://app.example.com/reset', 'http://localhost:3000/auth/reset'];
const fallback = 'https://app.example.com/reset';

describe('buildResetLink', () => {
  it('adds the token to an allowed URL, keeping its query and replacing any token in it', () => {
    expect(buildResetLink(undefined, allow, fallback, 'T')).toBe('https://app.example.com/reset?token=T');
    expect(buildResetLink('https://APP.example.com:443/reset?lang=fr&token=evil', allow, fallback, 'T')).toBe(
      'https://app.example.com/reset?lang=fr&token=T',
    );
    expect(buildResetLink('http://localhost:3000/auth/reset', allow, fallback, 'T')).toBe('http://localhost:3000/auth/reset?token=T');
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
  ])('refuses %s', (url) => {
    expect(() => buildResetLink(url, allow, fallback, 'T')).toThrow(/resetUrl/);
  });
});
