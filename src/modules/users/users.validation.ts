import { z } from 'zod';
import { badInput } from '../../errors.ts';

const emailSchema = z.email();

/** Trimmed and lower-cased, so that one address is one account. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !emailSchema.safeParse(email).success) throw badInput('email', 'must be a valid email address');
  return email;
}

/** Length counted in characters (code points); checked before any hashing work is done. */
export function checkPasswordLength(password: string, limits: { minLength: number; maxLength: number }, field = 'password'): void {
  if (password.length > limits.maxLength * 2) throw badInput(field, `must be at most ${limits.maxLength} characters`);
  const length = [...password].length;
  if (length < limits.minLength) throw badInput(field, `must be at least ${limits.minLength} characters`);
  if (length > limits.maxLength) throw badInput(field, `must be at most ${limits.maxLength} characters`);
}

export function checkName(value: string | null | undefined, field: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  if (trimmed.length > 100 || /[\u0000-\u001f\u007f]/.test(trimmed)) throw badInput(field, 'must be at most 100 printable characters');
  return trimmed || null;
}
