import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

// Opaque tokens are `<row id>.<secret>`: the id finds the row, the 256-bit secret is checked
// against the SHA-256 stored there. The secret itself is never stored.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A row id as the database writes it: a lower-case UUID. Checked before any id reaches a query. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface OpaqueToken {
  id: string;
  token: string;
  secretHash: string;
}

export function createOpaqueToken(): OpaqueToken {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${id}.${secret}`, secretHash: sha256(secret) };
}

/** Splits a presented token; null when it is not shaped like one of ours. */
export function parseOpaqueToken(token: string): { id: string; secret: string } | null {
  if (token.length !== 80) return null;
  const [id, secret, extra] = token.split('.');
  if (extra !== undefined || !id || !secret || !UUID.test(id) || !SECRET.test(secret)) return null;
  return { id, secret };
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(sha256(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
