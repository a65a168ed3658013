/** Opaque list cursors: base64url of [createdAt in ms, id]. Only their shape is trusted, never their content. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeUserCursor(user: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([user.createdAt.getTime(), user.id])).toString('base64url');
}

export function decodeUserCursor(cursor: string): { createdAt: Date; id: string } | null {
  if (cursor.length > 200) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [ms, id] = value as [unknown, unknown];
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || typeof id !== 'string' || !UUID.test(id)) return null;
    return { createdAt: new Date(ms), id };
  } catch {
    return null;
  }
}
