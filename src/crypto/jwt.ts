import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';

// Access tokens: short-lived JWTs signed with an asymmetric key (Ed25519 or P-256), named by a
// `kid` header so verifiers pick the key from a published JWKS. Verification pins the algorithm
// to the one of the key the kid names (never the header's choice), and the issuer, audience and
// token type, so `alg: none`, HS256 keyed with a public key, and unknown keys all fail.

export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** RFC 9068's media type for JWT access tokens, so they are not mistaken for ID tokens. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
const MAX_POLICIES = 256;

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
}

export interface SigningKey {
  kid: string;
  algorithm: SigningAlgorithm;
  privateKey: KeyObject;
}

export interface VerificationKey {
  kid: string;
  algorithm: SigningAlgorithm;
  publicKey: KeyObject;
}

/** Set (true) only on tokens of a session whose policies require 2FA enrolment first: `policies` is then empty. */
export const TWO_FACTOR_ENROLMENT_CLAIM = 'two_factor_enrolment_required';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  /** Policy names, under the configured claim. */
  policies: string[];
  twoFactorEnrolmentRequired?: boolean;
}

export interface TokenOptions {
  issuer: string;
  audience: string;
  policiesClaim: string;
}

export type VerifyResult =
  | { ok: true; claims: AccessClaims & { issuedAt: number; expiresAt: number } }
  | { ok: false; reason: 'expired' | 'invalid' | 'unknown-key' };

/** A new key pair: the private key as PKCS#8 DER (to be encrypted at rest), the public one as a JWK. */
export function generateSigningKeyPair(algorithm: SigningAlgorithm): { privateKeyPkcs8: Buffer; publicJwk: PublicJwk } {
  const { privateKey, publicKey } =
    algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicJwk: toPublicJwk(publicKey.export({ format: 'jwk' })),
  };
}

export function importPrivateKey(pkcs8: Buffer, algorithm: SigningAlgorithm): KeyObject {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  if (!matchesAlgorithm(key, algorithm)) throw new Error(`private key does not fit ${algorithm}`);
  return key;
}

export function importPublicJwk(jwk: PublicJwk, algorithm: SigningAlgorithm): KeyObject {
  const key = createPublicKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
  if (!matchesAlgorithm(key, algorithm)) throw new Error(`public key does not fit ${algorithm}`);
  return key;
}

/**
 * Signs with node:crypto directly rather than jose's SignJWT: jose (v6) signs through WebCrypto,
 * which costs the main thread about three times the CPU of the signature itself (a refresh or a
 * login signs one token each; measured in bench/, see issue #16). The compact JWS is what jose
 * writes, key for key in the same order (an Ed25519 token is byte for byte the same), and jose
 * still verifies every token (verifyAccessToken). ES256 signatures are the raw r||s form JWS
 * requires (RFC 7518 §3.4), not DER.
 */
export function signAccessToken(claims: AccessClaims, ttlSeconds: number, key: SigningKey, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { sid: claims.sessionId, [options.policiesClaim]: claims.policies };
  if (claims.twoFactorEnrolmentRequired) payload[TWO_FACTOR_ENROLMENT_CLAIM] = true;
  payload.sub = claims.userId;
  payload.iss = options.issuer;
  payload.aud = options.audience;
  payload.iat = now;
  payload.exp = now + ttlSeconds;
  const header = { alg: key.algorithm, kid: key.kid, typ: ACCESS_TOKEN_TYPE };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature =
    key.algorithm === 'EdDSA'
      ? sign(null, Buffer.from(input), key.privateKey)
      : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return Promise.resolve(`${input}.${signature.toString('base64url')}`);
}

const base64url = (text: string): string => Buffer.from(text).toString('base64url');

export interface VerifyOptions extends TokenOptions {
  /**
   * The longest lifetime (exp - iat) a token may have: one signed for longer (under an earlier,
   * longer TTL) counts as expired.
   */
  maxLifetimeSeconds?: number;
}

export async function verifyAccessToken(
  token: string,
  findKey: (kid: string) => VerificationKey | undefined,
  options: VerifyOptions,
): Promise<VerifyResult> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const { alg, kid } = header;
  if (!SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm) || typeof kid !== 'string' || kid.length === 0 || kid.length > 64) {
    return { ok: false, reason: 'invalid' };
  }
  const key = findKey(kid);
  if (!key) return { ok: false, reason: 'unknown-key' };
  if (key.algorithm !== alg) return { ok: false, reason: 'invalid' };
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.algorithm],
      issuer: options.issuer,
      audience: options.audience,
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ['sub', 'sid', 'exp', 'iat'],
    });
    const { sub, sid, exp, iat } = payload;
    const policies = payload[options.policiesClaim];
    const enrolment = payload[TWO_FACTOR_ENROLMENT_CLAIM];
    if (
      (enrolment !== undefined && enrolment !== true) ||
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      !Array.isArray(policies) ||
      policies.length > MAX_POLICIES ||
      !policies.every((p) => typeof p === 'string')
    ) {
      return { ok: false, reason: 'invalid' };
    }
    if (options.maxLifetimeSeconds !== undefined && exp - iat > options.maxLifetimeSeconds) return { ok: false, reason: 'expired' };
    const claims = { userId: sub, sessionId: sid, policies, issuedAt: iat, expiresAt: exp };
    return { ok: true, claims: enrolment ? { ...claims, twoFactorEnrolmentRequired: true } : claims };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}

function toPublicJwk(jwk: JsonWebKey): PublicJwk {
  if (typeof jwk.kty !== 'string' || typeof jwk.crv !== 'string' || typeof jwk.x !== 'string') throw new Error('unexpected public key');
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(typeof jwk.y === 'string' ? { y: jwk.y } : {}) };
}

function matchesAlgorithm(key: KeyObject, algorithm: SigningAlgorithm): boolean {
  if (algorithm === 'EdDSA') return key.asymmetricKeyType === 'ed25519';
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}
