import { createHmac, randomInt } from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';
import { sha256 } from './tokens.ts';

// TOTP (RFC 6238) with the defaults authenticator apps expect: SHA-1, 6 digits, 30-second steps.
// At most one step either side is accepted, and a code is refused unless its time step is newer
// than the last one accepted for the user, so no code works twice.

export const TOTP_PERIOD_SECONDS = 30;

export function createTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret });
}

/** The code for a moment (tests and tools); defaults to now. */
export function generateTotp(secret: string, epochSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return generate({ secret, epoch: epochSeconds });
}

/**
 * The time step the code belongs to when it is valid now (±1 step) and newer than
 * `lastTimeStep`; null otherwise. Never throws for malformed input.
 */
export async function verifyTotp(secret: string, code: string, lastTimeStep: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epochTolerance: TOTP_PERIOD_SECONDS,
      ...(lastTimeStep !== null ? { afterTimeStep: lastTimeStep } : {}),
    });
    // The TOTP result carries the matched time step (the shared result type also covers HOTP).
    return result.valid && 'timeStep' in result ? Number(result.timeStep) : null;
  } catch {
    return null;
  }
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Single-use recovery codes like `k7dq-mx2p-9wfa` (about 59 bits each), shown once, stored hashed. */
export function createRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: 12 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

/** Marks a stored recovery-code hash in the keyed form (see hashRecoveryCode). */
export const KEYED_RECOVERY_CODE_PREFIX = 'hmac:';

/** The code as typed, reduced to its characters: case, spaces and dashes do not matter. */
function canonicalCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * How a recovery code is stored: HMAC-SHA256, under a key derived from SECRET, of the user id and
 * the code's SHA-256. A copy of the table without SECRET tests nothing, and even with it a guess
 * is tested against one account at a time. Hashing the SHA-256 (not the code) lets the plain
 * hashes of earlier releases be rehashed without knowing the codes.
 */
export function hashRecoveryCode(key: Uint8Array, userId: string, code: string): string {
  return rehashPlainRecoveryCode(key, userId, plainRecoveryCodeHash(code));
}

/** How earlier releases stored a code: its plain SHA-256. */
export function plainRecoveryCodeHash(code: string): string {
  return sha256(canonicalCode(code));
}

/** The keyed form of a plain SHA-256 stored by an earlier release (equal to hashRecoveryCode of its code). */
export function rehashPlainRecoveryCode(key: Uint8Array, userId: string, plainHash: string): string {
  return `${KEYED_RECOVERY_CODE_PREFIX}${createHmac('sha256', key).update(`${userId}\u0000${plainHash}`).digest('hex')}`;
}
