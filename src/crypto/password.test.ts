import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('uses argon2id with the parameters it is given (OWASP minimum by default in config)', async () => {
    const hash = await hashPassword('pässwörd ✓', { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash.split('$')[3]?.split(',').sort()).toEqual(['m=19456', 'p=1', 't=2']);
    expect(await verifyPassword(hash, 'pässwörd ✓')).toBe(true);
    expect(await verifyPassword(hash, 'passwörd ✓')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });
});
