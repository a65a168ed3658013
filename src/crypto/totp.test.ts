import { describe, expect, it } from 'vitest';
import {
  createRecoveryCodes,
  createTotpSecret,
  generateTotp,
  hashRecoveryCode,
  KEYED_RECOVERY_CODE_PREFIX,
  plainRecoveryCodeHash,
  rehashPlainRecoveryCode,
  TOTP_PERIOD_SECONDS,
  totpUri,
  verifyTotp,
} from './totp.ts';

describe('TOTP', () => {
  const secret = createTotpSecret();
  const now = Math.floor(Date.now() / 1000);

  it('accepts the current code and one step either side, not two', async () => {
    expect(await verifyTotp(secret, await generateTotp(secret, now), null)).toBe(Math.floor(now / TOTP_PERIOD_SECONDS));
    expect(await verifyTotp(secret, await generateTotp(secret, now - TOTP_PERIOD_SECONDS), null)).not.toBeNull();
    expect(await verifyTotp(secret, await generateTotp(secret, now + TOTP_PERIOD_SECONDS), null)).not.toBeNull();
    expect(await verifyTotp(secret, await generateTotp(secret, now - 2 * TOTP_PERIOD_SECONDS), null)).toBeNull();
    expect(await verifyTotp(secret, await generateTotp(secret, now + 2 * TOTP_PERIOD_SECONDS), null)).toBeNull();
  });

  it('refuses a code whose time step was already used', async () => {
    const code = await generateTotp(secret, now);
    const step = await verifyTotp(secret, code, null);
    expect(step).not.toBeNull();
    expect(await verifyTotp(secret, code, step)).toBeNull();
  });

  it('refuses malformed codes without throwing', async () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12 345']) expect(await verifyTotp(secret, code, null)).toBeNull();
  });

  it('builds an otpauth URI naming issuer and account', () => {
    const uri = new URL(totpUri(secret, 'Gatehouse', 'ada@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Gatehouse');
    expect(decodeURIComponent(uri.pathname)).toContain('ada@example.com');
  });
});

describe('recovery codes', () => {
  it('are ten distinct codes whose hash ignores case, spaces and dashes', () => {
    const codes = createRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    const code = codes[0]!;
    const key = new Uint8Array(32).fill(7);
    expect(hashRecoveryCode(key, 'user-a', code.toUpperCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(key, 'user-a', code));
  });

  it('hash under a key and per user: not the plain SHA-256, different for another user or key', () => {
    const [code] = createRecoveryCodes(1) as [string];
    const key = new Uint8Array(32).fill(7);
    const stored = hashRecoveryCode(key, 'user-a', code);
    expect(stored.startsWith(KEYED_RECOVERY_CODE_PREFIX)).toBe(true);
    expect(stored).not.toContain(plainRecoveryCodeHash(code));
    expect(hashRecoveryCode(key, 'user-b', code)).not.toBe(stored);
    expect(hashRecoveryCode(new Uint8Array(32).fill(8), 'user-a', code)).not.toBe(stored);
    // A plain hash of an earlier release rehashes to exactly what the code hashes to now.
    expect(rehashPlainRecoveryCode(key, 'user-a', plainRecoveryCodeHash(code))).toBe(stored);
  });
});
