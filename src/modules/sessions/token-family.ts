import { decryptString, encrypt } from '../../crypto/aead.ts';
import { deriveKey } from '../../crypto/keys.ts';
import { createOpaqueToken } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { utc } from '../../db/sql.ts';
import type { AuthMode, SessionTokenKind } from '../../generated/prisma/enums.ts';

export type ReplayOutcome =
  /** Within the grace window: the successor the first refresh issued. */
  | { outcome: 'successor'; token: string; kind: SessionTokenKind; expiresAt: Date }
  /** Past the grace window: a used token came back, so someone holds a copy. */
  | { outcome: 'reuse' }
  /** Nothing to hand out (e.g. already wiped); a clean error, never a second successor. */
  | { outcome: 'refused' };

/**
 * The tokens of one session, each exchanged once for its successor. Claiming a token and creating
 * its successor happen in one transaction behind a conditional update (`usedAt IS NULL`): of any
 * number of concurrent refreshes, one claims; PostgreSQL makes the others wait for it and then see
 * the row used, PGlite runs them one after another. The winner leaves its successor on the old
 * row, sealed with AES-256-GCM, for REFRESH_REUSE_GRACE, so the losers (a second tab, a retried
 * request) receive that same successor; after the window it is wiped.
 */
export class TokenFamily {
  private readonly key: Uint8Array;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    secret: string,
    private readonly graceMs: number,
  ) {
    this.key = deriveKey(secret, 'refresh-successor');
  }

  /** Claims the token and issues its successor; null when another request claimed it first. */
  async rotate(tokenId: string, sessionId: string, mode: AuthMode, ttlSeconds: number): Promise<{ token: string; expiresAt: Date } | null> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    const successor = createOpaqueToken();
    const sealed = encrypt(this.key, successor.token, aad(tokenId));
    // One statement, so one round trip: claim the token (only if unused), create its successor and
    // extend the session. Of concurrent claims PostgreSQL lets one update the row; the others
    // re-check `usedAt IS NULL` after it commits, claim nothing, and so insert nothing.
    const [result] = await this.db.$queryRaw<{ claimed: number }[]>`
      WITH claim AS (
        UPDATE "SessionToken"
        SET "usedAt" = ${utc(now)}, "successorId" = ${successor.id}::uuid, "successorCiphertext" = ${sealed}
        WHERE "id" = ${tokenId}::uuid AND "usedAt" IS NULL
        RETURNING "sessionId"
      ), created AS (
        INSERT INTO "SessionToken" ("id", "sessionId", "kind", "secretHash", "createdAt", "expiresAt")
        SELECT ${successor.id}::uuid, "sessionId", ${kindOf(mode)}::"SessionTokenKind", ${successor.secretHash}, ${utc(now)}, ${utc(expiresAt)}
        FROM claim
      ), extended AS (
        UPDATE "Session" SET "mode" = ${mode}::"AuthMode", "lastUsedAt" = ${utc(now)}, "expiresAt" = ${utc(expiresAt)}
        WHERE "id" IN (SELECT "sessionId" FROM claim) AND "id" = ${sessionId}::uuid
      )
      SELECT count(*)::int AS claimed FROM claim`;
    const claimed = result?.claimed === 1;
    return claimed ? { token: successor.token, expiresAt } : null;
  }

  /** What a used token is worth now: its successor within the grace window, else a reuse. */
  async replay(tokenId: string): Promise<ReplayOutcome> {
    const row = await this.db.sessionToken.findUnique({
      where: { id: tokenId },
      select: { usedAt: true, successorId: true, successorCiphertext: true },
    });
    if (!row?.usedAt) return { outcome: 'refused' };
    if (Date.now() >= row.usedAt.getTime() + this.graceMs) return { outcome: 'reuse' };
    if (!row.successorId || !row.successorCiphertext) return { outcome: 'refused' };
    const successor = await this.db.sessionToken.findUnique({ where: { id: row.successorId }, select: { kind: true, expiresAt: true } });
    if (!successor) return { outcome: 'refused' };
    return { outcome: 'successor', token: decryptString(this.key, row.successorCiphertext, aad(tokenId)), ...successor };
  }

  /** Wipes successors whose grace window is over; runs every grace period. */
  startSweeping(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => {}), Math.max(this.graceMs, 1000));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async sweep(): Promise<number> {
    const { count } = await this.db.sessionToken.updateMany({
      where: { usedAt: { lt: new Date(Date.now() - this.graceMs) }, successorCiphertext: { not: null } },
      data: { successorCiphertext: null },
    });
    return count;
  }
}

export function kindOf(mode: AuthMode): SessionTokenKind {
  return mode === 'SESSION' ? 'SESSION' : 'REFRESH';
}

/** A successor sealed for one token does not open as another's. */
function aad(tokenId: string): string {
  return `refresh-successor:${tokenId}`;
}
