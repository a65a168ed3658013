import { describe, expect, it } from 'vitest';
import { createRecoveryCodes, createTotpSecret, generateTotp, hashRecoveryCode, TOTP_PERIOD_SECONDS, totpUri, verifyTotp } from './totp.ts';

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
    expect(hashRecoveryCode(code.toUpperCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(code));
  });
});
