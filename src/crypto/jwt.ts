import { errors, jwtVerify, SignJWT } from 'jose';

// Access tokens: short-lived HS256 JWTs naming their session (`sid`). The algorithm list,
// issuer and audience are pinned on verification, so `alg: none` and algorithm confusion fail.

export interface AccessClaims {
  userId: string;
  sessionId: string;
  policyIds: string[];
}

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: 'expired' | 'invalid' };

export interface AccessTokenSigner {
  sign(claims: AccessClaims, ttlSeconds: number): Promise<string>;
  verify(token: string): Promise<VerifyResult>;
}

const ALGORITHM = 'HS256';

export function createAccessTokenSigner(key: Uint8Array, options: { issuer: string; audience: string }): AccessTokenSigner {
  return {
    sign(claims, ttlSeconds) {
      return new SignJWT({ sid: claims.sessionId, pol: claims.policyIds })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['sub', 'sid', 'exp', 'iat'],
        });
        const { sub, sid, pol } = payload;
        if (typeof sub !== 'string' || typeof sid !== 'string' || !Array.isArray(pol) || !pol.every((p) => typeof p === 'string')) {
          return { ok: false, reason: 'invalid' };
        }
        return { ok: true, claims: { userId: sub, sessionId: sid, policyIds: pol } };
      } catch (error) {
        return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}
