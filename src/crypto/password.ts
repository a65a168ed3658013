import argon2 from 'argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * The form a password is hashed and checked in: NFKC, so one password is one string however it
 * was typed ("é" as one code point or as "e" and a combining accent; full-width letters).
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export function hashPassword(password: string, params: Argon2Params): Promise<string> {
  return argon2.hash(normalizePassword(password), { type: argon2.argon2id, ...params });
}

export interface PasswordCheck {
  ok: boolean;
  /** The hash is of the password as typed, not its NFKC form (an earlier release): hash it again. */
  rehash: boolean;
}

/**
 * Checks the NFKC form; when that fails and the typed form differs, the typed form too, since
 * hashes written before normalisation are of it. That costs a second verification only for input
 * that is not NFKC already, whatever the account. False for a malformed hash; never throws.
 */
export async function checkPassword(hash: string, password: string): Promise<PasswordCheck> {
  const normalized = normalizePassword(password);
  if (await verifyRaw(hash, normalized)) return { ok: true, rehash: false };
  if (normalized !== password && (await verifyRaw(hash, password))) return { ok: true, rehash: true };
  return { ok: false, rehash: false };
}

/** Argon2 1.3, the version argon2 writes (`v=19`). */
const ARGON2_VERSION = 0x13;

/**
 * Whether a hash is weaker than `params` ask for: argon2 other than argon2id, an older version, or
 * less memory or fewer passes. After ARGON2_MEMORY_KIB or ARGON2_TIME_COST was raised, a successful
 * login hashes the password again. Only upwards: instances of a rolling deploy that disagree do
 * not rehash each other's hashes back and forth, and lowering the parameters leaves existing
 * hashes as strong as they are. False for a hash that is not argon2's.
 */
export function hashNeedsUpgrade(hash: string, params: Argon2Params): boolean {
  const phc = /^\$(argon2(?:id|i|d))\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash);
  if (!phc) return false;
  const [, type, version, list] = phc;
  const values = new Map((list ?? '').split(',').map((pair) => [pair[0], Number(pair.slice(2))] as const));
  return (
    type !== 'argon2id' ||
    Number(version) < ARGON2_VERSION ||
    (values.get('m') ?? 0) < params.memoryCost ||
    (values.get('t') ?? 0) < params.timeCost
  );
}

/** checkPassword without the rehash hint: false for a wrong password and a malformed hash alike. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return (await checkPassword(hash, password)).ok;
}

async function verifyRaw(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password with the configured parameters. Verifying against it when the
 * email is unknown makes that answer cost as much as a wrong password for a real account.
 */
export function createDummyHash(params: Argon2Params): Promise<string> {
  return hashPassword(crypto.randomUUID(), params);
}

/** A password for an account an operator creates: >= 144 random bits, base64url, never shorter than `minLength`. */
export function generatePassword(minLength: number): string {
  const bytes = Math.max(18, Math.ceil((minLength * 3) / 4));
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url');
}
