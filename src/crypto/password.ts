import argon2 from 'argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export function hashPassword(password: string, params: Argon2Params): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id, ...params });
}

/** False for a wrong password and for a malformed hash alike; never throws on bad input. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
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
