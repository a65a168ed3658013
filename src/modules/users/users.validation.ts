import { z } from 'zod';
import { normalizePassword } from '../../crypto/password.ts';
import { badInput } from '../../errors.ts';

const emailSchema = z.email();

/** Trimmed and lower-cased, so that one address is one account. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !emailSchema.safeParse(email).success) throw badInput('email', 'must be a valid email address');
  return email;
}

/** Nothing but spaces of any kind and invisible characters (zero-width space, joiners, …). */
const BLANK = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]*$/u;

/**
 * The rules for a password being set: not only whitespace, and a length between the limits
 * counted in characters (code points) of its NFKC form, the form it is hashed in. Very long input
 * is refused before it is even normalised.
 */
export function checkNewPassword(password: string, limits: { minLength: number; maxLength: number }, field = 'password'): void {
  const tooLong = () => badInput(field, `must be at most ${limits.maxLength} characters`);
  if (password.length > limits.maxLength * 4) throw tooLong();
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < limits.minLength) throw badInput(field, `must be at least ${limits.minLength} characters`);
  if (length > limits.maxLength) throw tooLong();
  if (BLANK.test(normalized)) throw badInput(field, 'must not be only whitespace');
}

export function checkName(value: string | null | undefined, field: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  if (trimmed.length > 100 || /[\u0000-\u001f\u007f]/.test(trimmed)) throw badInput(field, 'must be at most 100 printable characters');
  return trimmed || null;
}
