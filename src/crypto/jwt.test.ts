import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAccessTokenSigner } from './jwt.ts';
import { deriveKey } from './keys.ts';

const key = deriveKey('a-secret-of-at-least-thirty-two-characters', 'access-token-hs256');
const options = { issuer: 'https://auth.example.com', audience: 'gatehouse' };
const signer = createAccessTokenSigner(key, options);
const claims = { userId: 'u1', sessionId: 's1', policyIds: ['p1'] };

describe('access tokens', () => {
  it('round-trip their claims', async () => {
    const token = await signer.sign(claims, 60);
    expect(await signer.verify(token)).toEqual({ ok: true, claims });
  });

  it('refuse unsigned tokens, other issuers, other audiences and other keys', async () => {
    const unsecured = new UnsecuredJWT({ sid: 's1', pol: [] })
      .setSubject('u1')
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .encode();
    expect(await signer.verify(unsecured)).toEqual({ ok: false, reason: 'invalid' });
    const other = createAccessTokenSigner(key, { ...options, issuer: 'https://evil.example' });
    expect(await signer.verify(await other.sign(claims, 60))).toEqual({ ok: false, reason: 'invalid' });
    const otherAudience = createAccessTokenSigner(key, { ...options, audience: 'other' });
    expect(await signer.verify(await otherAudience.sign(claims, 60))).toEqual({ ok: false, reason: 'invalid' });
    const otherKey = createAccessTokenSigner(deriveKey('another-secret-of-at-least-thirty-two-chars', 'x'), options);
    expect(await signer.verify(await otherKey.sign(claims, 60))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse a token without a session, and report expiry apart', async () => {
    const noSid = await new SignJWT({ pol: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(key);
    expect(await signer.verify(noSid)).toEqual({ ok: false, reason: 'invalid' });
    const expired = await new SignJWT({ sid: 's1', pol: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(1000)
      .setExpirationTime(2000)
      .sign(key);
    expect(await signer.verify(expired)).toEqual({ ok: false, reason: 'expired' });
  });
});
