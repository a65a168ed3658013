import { describe, expect, it } from 'vitest';
import { createOpaqueToken, parseOpaqueToken, secretMatches } from './tokens.ts';

describe('opaque tokens', () => {
  it('carry a 256-bit secret that only its hash can check', () => {
    const token = createOpaqueToken();
    const parsed = parseOpaqueToken(token.token)!;
    expect(parsed.id).toBe(token.id);
    expect(Buffer.from(parsed.secret, 'base64url')).toHaveLength(32);
    expect(secretMatches(parsed.secret, token.secretHash)).toBe(true);
    expect(secretMatches(`${parsed.secret.slice(0, -1)}A`, token.secretHash)).toBe(parsed.secret.endsWith('A'));
    expect(token.secretHash).not.toContain(parsed.secret);
  });

  it.each([
    '',
    'abc',
    `${crypto.randomUUID()}.short`,
    `${crypto.randomUUID()}.${'a'.repeat(43)}.x`,
    `not-a-uuid-at-all-000000000000000000.${'a'.repeat(43)}`,
  ])('rejects the malformed token %j', (value) => {
    expect(parseOpaqueToken(value)).toBeNull();
  });
});
