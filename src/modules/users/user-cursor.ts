import { decryptString, encrypt } from '../../crypto/aead.ts';
import { isUuid } from '../../crypto/tokens.ts';

/**
 * List cursors: [createdAt in ms, id], sealed with AES-256-GCM. Sealed, not just encoded, because
 * a cursor would otherwise show a row's id and creation time to a viewer whose permission opens
 * neither; and a forged one never reaches the database.
 */
const AAD = 'users-list-cursor';
/** The largest instant a JavaScript Date holds. */
const MAX_MS = 8.64e15;

export function encodeUserCursor(key: Uint8Array, user: { createdAt: Date; id: string }): string {
  return encrypt(key, JSON.stringify([user.createdAt.getTime(), user.id]), AAD);
}

export function decodeUserCursor(key: Uint8Array, cursor: string): { createdAt: Date; id: string } | null {
  if (cursor.length > 300) return null;
  try {
    const value = JSON.parse(decryptString(key, cursor, AAD)) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [ms, id] = value as [unknown, unknown];
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_MS || !isUuid(id)) return null;
    return { createdAt: new Date(ms), id };
  } catch {
    return null;
  }
}
