import { parse, serialize } from 'cookie';
import type { Config } from '../../config/config.ts';
import { decryptString, encrypt } from '../../crypto/aead.ts';
import type { AuthMode } from '../../generated/prisma/enums.ts';

// The state of one sign-in lives in the browser that started it, as an HttpOnly cookie sealed with
// AES-256-GCM (key derived from SECRET, bound to the provider): the callback is honoured only in
// the browser that holds it, which is what defeats login CSRF (a victim sent to our callback with
// an attacker's code has no cookie, or one whose state does not match). It also carries the PKCE
// verifier and nonce, which must stay secret, hence sealed rather than only signed.

export const STATE_COOKIE = 'gatehouse_sso_state';
/** Time to get through the provider's login (and perhaps its MFA). */
export const STATE_TTL_SECONDS = 600;

export interface SignInState {
  provider: string;
  state: string;
  nonce: string | null;
  codeVerifier: string;
  redirect: string;
  mode: AuthMode;
  /** A linkIdentity flow: the user and session that asked. */
  link: { userId: string; sessionId: string } | null;
  expiresAt: number;
}

/** The flow's cookie lives under the provider's login path, which covers its callback. */
export function statePath(provider: string): string {
  return `/auth/login/${provider}`;
}

export function sealState(key: Uint8Array, value: SignInState): string {
  return encrypt(key, JSON.stringify(value), aad(value.provider));
}

/** The sealed state this browser holds for `provider`, or null (absent, tampered, expired). */
export function readState(key: Uint8Array, cookieHeader: string | null, provider: string): SignInState | null {
  if (!cookieHeader) return null;
  const sealed = parse(cookieHeader)[STATE_COOKIE];
  if (!sealed || sealed.length > 4096) return null;
  try {
    const value = JSON.parse(decryptString(key, sealed, aad(provider))) as SignInState;
    if (value.provider !== provider || typeof value.expiresAt !== 'number' || value.expiresAt <= Date.now()) return null;
    return value;
  } catch {
    return null;
  }
}

/**
 * SameSite=Lax whatever COOKIE_SAME_SITE says: the provider sends the browser back with a
 * top-level GET from its own site, which Strict would strip the cookie from.
 */
export function stateCookie(cookies: Config['cookies'], provider: string, value: string | null): string {
  return serialize(STATE_COOKIE, value ?? '', {
    httpOnly: true,
    secure: cookies.secure,
    sameSite: 'lax',
    path: statePath(provider),
    ...(value === null ? { maxAge: 0, expires: new Date(0) } : { maxAge: STATE_TTL_SECONDS }),
  });
}

const aad = (provider: string) => `sso-state:${provider}`;
