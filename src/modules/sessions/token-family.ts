import { decryptString, encrypt } from '../../crypto/aead.ts';
import { deriveKey } from '../../crypto/keys.ts';
import { createOpaqueToken, sha256 } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { queryRows, statement, TS } from '../../db/raw.ts';
import { utc } from '../../db/sql.ts';
import type { AuthMode, SessionTokenKind } from '../../generated/prisma/enums.ts';
import { TOKEN_ROW_SELECT, type TokenRow } from './token-row.ts';

export type ReplayOutcome =
  /** The successor the first refresh issued (see TokenFamily.replay for when). */
  | { outcome: 'successor'; token: string; kind: SessionTokenKind; expiresAt: Date }
  /** A used token came back when its successor had been presented: someone holds a copy. */
  | { outcome: 'reuse' }
  /** Nothing to hand out (e.g. already wiped); a clean error, never a second successor. */
  | { outcome: 'refused' };

/**
 * A refresh in one statement (see TokenFamily.refresh): reads the token with its session and user
 * (TOKEN_ROW_SELECT) and, only if it is live and unused and the secret's hash is the stored one,
 * claims it, creates its successor and extends the session. Prepared, as it runs on every refresh.
 * The conditions are those SessionService.liveToken applies to the row, on the same clock ($2, ms):
 * the statement claims exactly when that check passes.
 */
const REFRESH = statement(
  'token-family.refresh',
  `WITH token AS (
    ${TOKEN_ROW_SELECT}
  ), live AS (
    SELECT "id", "sessionId", LEAST($4::float8, floor(("createdAt" + $5::float8 - $2::float8) / 1000)) AS "ttl"
    FROM token
    WHERE "secretHash" = $6 AND "usedAt" IS NULL AND "revokedAt" IS NULL AND "status" = 'ACTIVE'
      AND "expiresAt" > $2::float8 AND "sessionExpiresAt" > $2::float8
      AND floor(("createdAt" + $5::float8 - $2::float8) / 1000) > 0
  ), claim AS (
    UPDATE "SessionToken" AS st
    SET "usedAt" = ${TS(3)}, "successorId" = $7::uuid, "successorCiphertext" = $8
    FROM live
    WHERE st."id" = live."id" AND st."usedAt" IS NULL
    RETURNING st."sessionId", live."ttl"
  ), created AS (
    INSERT INTO "SessionToken" ("id", "sessionId", "kind", "secretHash", "createdAt", "expiresAt")
    SELECT $7::uuid, "sessionId", $9::"SessionTokenKind", $10, ${TS(3)}, ${TS(3)} + make_interval(secs => "ttl")
    FROM claim
  ), extended AS (
    UPDATE "Session" AS s
    SET "mode" = $11::"AuthMode", "lastUsedAt" = ${TS(3)}, "expiresAt" = ${TS(3)} + make_interval(secs => claim."ttl")
    FROM claim
    WHERE s."id" = claim."sessionId"
  )
  SELECT token.*, (SELECT "ttl" FROM claim) AS "claimedTtl" FROM token`,
);

/** What TokenFamily.refresh found and did: the token as read (null when no such row), and its successor if this refresh claimed it. */
export interface RefreshAttempt {
  row: TokenRow | null;
  /** The successor and its lifetime in seconds. */
  issued: { token: string; ttl: number } | null;
}

/**
 * The tokens of one session, each exchanged once for its successor. Claiming a token and creating
 * its successor happen in one statement behind a conditional update (`usedAt IS NULL`): of any
 * number of concurrent refreshes, one claims; PostgreSQL makes the others wait for it and then see
 * the row used. The winner leaves its successor on the old row, sealed with AES-256-GCM, until
 * the successor is presented, so a used token coming back
 * gets that same successor rather than a new one:
 *
 * - within REFRESH_REUSE_GRACE of its use, always (a second tab, a retried request);
 * - later, once, while the successor has never been presented (exchanged, or for a session
 *   cookie, used to authenticate a request): the refresh committed but its
 *   answer never reached the client (a crash, a deploy, an outage), and the client retries with
 *   the token it still holds. Nobody is logged out for a fault of ours.
 * - later still, when the successor (or a later descendant) was presented, or was itself handed
 *   out by such a late replay, two parties hold the chain: the session is revoked. Theft is
 *   therefore caught at the latest at the next refresh of either party.
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

  /**
   * Reads the presented token and, if it is live and unused, claims it and issues its successor,
   * extending the session to `tokenTtlSeconds` (never past `sessionMaxAgeSeconds` from its login):
   * one statement, so one round trip (plain SQL on the pool, see db/raw.ts). Of concurrent claims
   * PostgreSQL lets one update the row; the others re-check `usedAt IS NULL` after it commits, claim
   * nothing, and so insert nothing. The stored secret hash is matched in SQL, so that a token id
   * without its secret claims nothing (a timing difference in comparing two SHA-256 digests tells
   * nothing about the secret behind them). The caller must still check the secret, in constant
   * time, on the row returned: the replay path (a used token) relies on that check alone.
   */
  async refresh(
    token: { id: string; secret: string },
    mode: AuthMode,
    tokenTtlSeconds: number,
    sessionMaxAgeSeconds: number,
    now: number,
  ): Promise<RefreshAttempt> {
    const successor = createOpaqueToken();
    const sealed = encrypt(this.key, successor.token, aad(token.id));
    const [row] = await queryRows<TokenRow & { claimedTtl: number | null }>(this.db, REFRESH, [
      token.id,
      now,
      new Date(now).toISOString(),
      tokenTtlSeconds,
      sessionMaxAgeSeconds * 1000,
      sha256(token.secret),
      successor.id,
      sealed,
      kindOf(mode),
      successor.secretHash,
      mode,
    ]);
    if (!row) return { row: null, issued: null };
    const { claimedTtl, ...read } = row;
    if (claimedTtl === null) return { row: read, issued: null };
    return { row: read, issued: { token: successor.token, ttl: claimedTtl } };
  }

  /** What a used token is worth now: its successor, or a reuse (see the class comment for when). */
  async replay(tokenId: string, kind: SessionTokenKind): Promise<ReplayOutcome> {
    const row = await this.db.sessionToken.findUnique({
      where: { id: tokenId },
      select: { usedAt: true, replayedAt: true, successorId: true, successorCiphertext: true },
    });
    if (!row?.usedAt || !row.successorId) return { outcome: 'refused' };
    const successor = await this.db.sessionToken.findUnique({
      where: { id: row.successorId },
      select: { kind: true, expiresAt: true },
    });
    // The successor's kind was fixed by the first refresh; a request for the other kind gets an error, not a new token.
    if (!successor || successor.kind !== kind) return { outcome: 'refused' };
    const late = Date.now() >= row.usedAt.getTime() + this.graceMs;
    // Late: one replay, while the successor was never presented and this token did not itself come from a late replay.
    if (late && (row.replayedAt || !(await this.claimLateReplay(row.successorId)))) return { outcome: 'reuse' };
    if (!row.successorCiphertext) return { outcome: 'refused' };
    const token = decryptString(this.key, row.successorCiphertext, aad(tokenId));
    return { outcome: 'successor', token, kind: successor.kind, expiresAt: successor.expiresAt };
  }

  /**
   * Marks the successor as handed out by a late replay, if it was never presented. Concurrent
   * retries of that one late replay (two tabs) share its answer, as within the grace window.
   */
  private async claimLateReplay(successorId: string): Promise<boolean> {
    const { count } = await this.db.sessionToken.updateMany({
      where: { id: successorId, usedAt: null, presentedAt: null, replayedAt: null },
      data: { replayedAt: new Date() },
    });
    if (count === 1) return true;
    const successor = await this.db.sessionToken.findUnique({
      where: { id: successorId },
      select: { usedAt: true, presentedAt: true, replayedAt: true },
    });
    return (
      !!successor &&
      !successor.usedAt &&
      !successor.presentedAt &&
      !!successor.replayedAt &&
      Date.now() < successor.replayedAt.getTime() + this.graceMs
    );
  }

  /** Wipes sealed successors nobody may receive again; runs every grace period. */
  startSweeping(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => {}), Math.max(this.graceMs, 1000));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Past the grace window a sealed successor is needed only while it may still be replayed late:
   * once it was presented, expired, or handed out by a late replay more than a grace period ago,
   * it is wiped.
   */
  async sweep(): Promise<number> {
    const now = new Date();
    return this.db.$executeRaw`
      UPDATE "SessionToken" AS t SET "successorCiphertext" = NULL
      WHERE t."successorCiphertext" IS NOT NULL AND t."usedAt" < ${utc(new Date(now.getTime() - this.graceMs))}
        AND NOT EXISTS (
          SELECT 1 FROM "SessionToken" AS s
          WHERE s."id" = t."successorId" AND s."usedAt" IS NULL AND s."presentedAt" IS NULL AND s."expiresAt" > ${utc(now)}
            AND (s."replayedAt" IS NULL OR s."replayedAt" > ${utc(new Date(now.getTime() - this.graceMs))})
        )`;
  }
}

export function kindOf(mode: AuthMode): SessionTokenKind {
  return mode === 'SESSION' ? 'SESSION' : 'REFRESH';
}

/** A successor sealed for one token does not open as another's. */
function aad(tokenId: string): string {
  return `refresh-successor:${tokenId}`;
}
