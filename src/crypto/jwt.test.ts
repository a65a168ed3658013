import { createHmac } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  type AccessClaims,
  generateSigningKeyPair,
  importPrivateKey,
  importPublicJwk,
  type SigningAlgorithm,
  type SigningKey,
  signAccessToken,
  type VerificationKey,
  verifyAccessToken,
} from './jwt.ts';

const options = { issuer: 'https://auth.example.com', audience: 'gatehouse', policiesClaim: 'policies' };
const claims = { userId: 'u1', sessionId: 's1', policies: ['User'] };

function makeKey(kid: string, algorithm: SigningAlgorithm) {
  const pair = generateSigningKeyPair(algorithm);
  const signing: SigningKey = { kid, algorithm, privateKey: importPrivateKey(pair.privateKeyPkcs8, algorithm) };
  const verification: VerificationKey = { kid, algorithm, publicKey: importPublicJwk(pair.publicJwk, algorithm) };
  return { signing, verification, publicJwk: pair.publicJwk };
}

const ed = makeKey('ed-1', 'EdDSA');
const es = makeKey('es-1', 'ES256');
const keys = new Map([ed, es].map((k) => [k.verification.kid, k.verification]));
const findKey = (kid: string) => keys.get(kid);
const verify = (token: string) => verifyAccessToken(token, findKey, options);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payload = (extra: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'u1', sid: 's1', policies: [], iss: options.issuer, aud: options.audience, iat: now, exp: now + 60, ...extra };
};

describe('access tokens', () => {
  it.each([ed, es])('round-trip their claims with $verification.algorithm and name their key', async (key) => {
    const token = await signAccessToken(claims, 60, key.signing, options);
    expect(decodeProtectedHeader(token)).toEqual({ alg: key.signing.algorithm, kid: key.signing.kid, typ: 'at+jwt' });
    const result = await verify(token);
    expect(result).toEqual({ ok: true, claims: { ...claims, issuedAt: expect.any(Number), expiresAt: expect.any(Number) } });
  });

  it.each<[string, AccessClaims]>([
    ['without', claims],
    ['with', { ...claims, twoFactorEnrolmentRequired: true }],
  ])('are written as jose writes them (%s the 2FA enrolment claim)', async (_, tokenClaims) => {
    for (const key of [ed, es]) {
      const token = await signAccessToken(tokenClaims, 60, key.signing, options);
      const { iat } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
      const enrolment = tokenClaims.twoFactorEnrolmentRequired ? { two_factor_enrolment_required: true } : {};
      const byJose = await new SignJWT({ sid: tokenClaims.sessionId, policies: tokenClaims.policies, ...enrolment })
        .setProtectedHeader({ alg: key.signing.algorithm, kid: key.signing.kid, typ: 'at+jwt' })
        .setSubject(tokenClaims.userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(key.signing.privateKey);
      // Ed25519 signatures are deterministic: the whole token is the same. ECDSA's are not: header and payload are.
      if (key === ed) expect(token).toBe(byJose);
      else expect(token.split('.').slice(0, 2)).toEqual(byJose.split('.').slice(0, 2));
      const verified = await jwtVerify(token, key.verification.publicKey, { algorithms: [key.signing.algorithm], typ: 'at+jwt' });
      expect(verified.payload).toMatchObject({ sub: tokenClaims.userId, sid: tokenClaims.sessionId, ...enrolment });
    }
  });

  it('carry the policy names under the configured claim', async () => {
    const custom = { ...options, policiesClaim: 'https://gatehouse.example/policies' };
    const token = await signAccessToken(claims, 60, ed.signing, custom);
    const body = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    expect(body).toMatchObject({ 'https://gatehouse.example/policies': ['User'], sid: 's1', sub: 'u1' });
    expect(body.policies).toBeUndefined();
    expect((await verifyAccessToken(token, findKey, custom)).ok).toBe(true);
    expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('count as expired when they live longer than the given maximum lifetime', async () => {
    const token = await signAccessToken(claims, 3600, ed.signing, options);
    expect((await verifyAccessToken(token, findKey, { ...options, maxLifetimeSeconds: 3600 })).ok).toBe(true);
    expect(await verifyAccessToken(token, findKey, { ...options, maxLifetimeSeconds: 60 })).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse alg none, even naming a known kid', async () => {
    const unsecured = new UnsecuredJWT(payload()).encode();
    expect(await verify(unsecured)).toEqual({ ok: false, reason: 'invalid' });
    const withKid = `${b64({ alg: 'none', kid: 'ed-1', typ: 'at+jwt' })}.${b64(payload())}.`;
    expect(await verify(withKid)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse HS256 keyed with the public key (algorithm confusion)', async () => {
    for (const secret of [JSON.stringify(ed.publicJwk), ed.publicJwk.x, Buffer.from(ed.publicJwk.x, 'base64url')]) {
      const signingInput = `${b64({ alg: 'HS256', kid: 'ed-1', typ: 'at+jwt' })}.${b64(payload())}`;
      const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
      expect(await verify(`${signingInput}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    }
    const pem = ed.verification.publicKey.export({ format: 'pem', type: 'spki' });
    const hs = await new SignJWT(payload())
      .setProtectedHeader({ alg: 'HS256', kid: 'ed-1', typ: 'at+jwt' })
      .sign(new TextEncoder().encode(String(pem)));
    expect(await verify(hs)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse a header algorithm other than the named key’s', async () => {
    // An ES256 signature presented under the Ed25519 key's kid.
    const token = await signAccessToken(claims, 60, { ...es.signing, kid: 'ed-1' }, options);
    expect(await verify(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('report an unknown kid apart, and refuse a token without one', async () => {
    const stranger = makeKey('unknown-kid', 'EdDSA');
    expect(await verify(await signAccessToken(claims, 60, stranger.signing, options))).toEqual({ ok: false, reason: 'unknown-key' });
    const noKid = await new SignJWT(payload()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(ed.signing.privateKey);
    expect(await verify(noKid)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse a signature by another key under a known kid', async () => {
    const impostor = makeKey('ed-1', 'EdDSA');
    expect(await verify(await signAccessToken(claims, 60, impostor.signing, options))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse other issuers, audiences and token types', async () => {
    const sign = (o: typeof options) => signAccessToken(claims, 60, ed.signing, o);
    expect(await verify(await sign({ ...options, issuer: 'https://evil.example' }))).toEqual({ ok: false, reason: 'invalid' });
    expect(await verify(await sign({ ...options, audience: 'other' }))).toEqual({ ok: false, reason: 'invalid' });
    const idToken = await new SignJWT(payload()).setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1', typ: 'JWT' }).sign(ed.signing.privateKey);
    expect(await verify(idToken)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuse a token without a session or with malformed policies, and report expiry apart', async () => {
    const sign = (body: Record<string, unknown>) =>
      new SignJWT(body).setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1', typ: 'at+jwt' }).sign(ed.signing.privateKey);
    const { sid: _sid, ...noSid } = payload();
    expect(await verify(await sign(noSid))).toEqual({ ok: false, reason: 'invalid' });
    expect(await verify(await sign(payload({ policies: 'User' })))).toEqual({ ok: false, reason: 'invalid' });
    expect(await verify(await sign(payload({ policies: [1] })))).toEqual({ ok: false, reason: 'invalid' });
    expect(await verify(await sign(payload({ iat: 1000, exp: 2000 })))).toEqual({ ok: false, reason: 'expired' });
    expect(await verify('not.a.jwt')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('import keys only for the algorithm they fit', () => {
    const pair = generateSigningKeyPair('EdDSA');
    expect(() => importPrivateKey(pair.privateKeyPkcs8, 'ES256')).toThrow(/ES256/);
    expect(() => importPublicJwk(pair.publicJwk, 'ES256')).toThrow(/ES256/);
    expect(generateSigningKeyPair('ES256').publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(pair.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String) });
  });
});
