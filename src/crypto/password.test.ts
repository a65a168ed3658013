import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { checkPassword, hashNeedsUpgrade, hashPassword, verifyPassword } from './password.ts';

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('password hashing', () => {
  it('uses argon2id with the parameters it is given (OWASP minimum by default in config)', async () => {
    const hash = await hashPassword('pässwörd ✓', { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash.split('$')[3]?.split(',').sort()).toEqual(['m=19456', 'p=1', 't=2']);
    expect(await verifyPassword(hash, 'pässwörd ✓')).toBe(true);
    expect(await verifyPassword(hash, 'passwörd ✓')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });

  it('hashes and checks the NFKC form, so NFC and NFD of one password match', async () => {
    const nfc = 'pâté ﬁne';
    const nfd = nfc.normalize('NFD');
    const hash = await hashPassword(nfd, CHEAP);
    expect(await argon2.verify(hash, nfc.normalize('NFKC'))).toBe(true);
    expect(await checkPassword(hash, nfc)).toEqual({ ok: true, rehash: false });
    expect(await checkPassword(hash, nfd)).toEqual({ ok: true, rehash: false });
  });

  it('accepts a hash of the password as typed (written before normalisation) and asks for a rehash', async () => {
    const nfd = 'pâté'.normalize('NFD');
    const legacy = await argon2.hash(nfd, { type: argon2.argon2id, ...CHEAP });
    expect(await checkPassword(legacy, nfd)).toEqual({ ok: true, rehash: true });
    expect(await checkPassword(legacy, 'pate')).toEqual({ ok: false, rehash: false });
  });

  it('calls a hash weaker than the parameters for an upgrade, never a stronger one', async () => {
    const now = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
    const same = await hashPassword('x', now);
    expect(hashNeedsUpgrade(same, now)).toBe(false);
    expect(hashNeedsUpgrade(await hashPassword('x', { ...now, memoryCost: 1024 }), now)).toBe(true);
    expect(hashNeedsUpgrade(await hashPassword('x', { ...now, timeCost: 1 }), now)).toBe(true);
    // Stronger, or only another parallelism: left as it is (lowered parameters, a rolling deploy).
    expect(hashNeedsUpgrade(await hashPassword('x', { memoryCost: 4096, timeCost: 3, parallelism: 1 }), now)).toBe(false);
    expect(hashNeedsUpgrade(await hashPassword('x', { ...now, parallelism: 2 }), now)).toBe(false);
    // Another argon2 variant, or an older version of the algorithm.
    expect(hashNeedsUpgrade(await argon2.hash('x', { type: argon2.argon2i, ...now }), now)).toBe(true);
    expect(hashNeedsUpgrade(same.replace('$v=19$', '$v=16$'), now)).toBe(true);
    expect(hashNeedsUpgrade('not a hash', now)).toBe(false);
  });
});
