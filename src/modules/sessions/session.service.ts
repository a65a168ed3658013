import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import { createOpaqueToken, isUuid, type OpaqueToken, parseOpaqueToken, secretMatches } from '../../crypto/tokens.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import { queryRows, statement, TS } from '../../db/raw.ts';
import { AppError } from '../../errors.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { AuthMode } from '../../generated/prisma/enums.ts';
import type { AccessService, UserGrants } from '../access/access.service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SigningKeyService } from '../signing-keys/signing-key.service.ts';
import type { Revocation, RevocationService } from './revocation.service.ts';
import { kindOf, type TokenFamily } from './token-family.ts';
import { TOKEN_ROW_SELECT, type TokenRecord, type TokenRow, tokenRecord } from './token-row.ts';

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

/** What a login or refresh hands out; which parts reach the client depends on the mode. */
export interface IssuedCredentials {
  userId: string;
  sessionId: string;
  mode: AuthMode;
  /** JWT for JSON and COOKIE modes. */
  accessToken: string | null;
  /** The opaque token: a refresh token (JSON, COOKIE) or the session cookie value (SESSION). */
  token: string;
  /** Seconds the access token (JSON, COOKIE) or the session token (SESSION) stays valid. */
  expiresIn: number;
  /** Seconds the opaque token stays valid (the cookie's Max-Age). */
  tokenTtl: number;
}

/** A login's session before it is written: see SessionService.prepareSession. */
export interface PreparedSession {
  userId: string;
  sessionId: string;
  mode: AuthMode;
  client: ClientInfo;
  twoFactorEnabled: boolean | undefined;
  opaque: OpaqueToken;
  /** Seconds the opaque token stays valid. */
  ttl: number;
  now: Date;
  expiresAt: Date;
  /**
   * The credentials computed ahead for the grants the caller read, with the policies' version they
   * were computed from (null when that changed while computing them), or null.
   */
  ahead: { grants: UserGrants; credentials: Promise<{ issued: IssuedCredentials; accessVersion: number | null }> } | null;
}

/** A session as its owner may see it: never a token. */
export interface SessionSummary {
  id: string;
  /** Null once its user was deleted. */
  userId: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export interface SessionViewer {
  userId: string;
  sessionId: string;
  policyIds: string[];
}

/** A login's session write under a share lock on the user row (see SessionService.writeSession). */
const WRITE_SESSION = statement(
  'sessions.write-session',
  `WITH "user" AS (
     SELECT "id", "roleId" FROM "User"
     WHERE "id" = $1::uuid AND "status" = 'ACTIVE' AND "credentialVersion" = $2
     FOR SHARE
   ), "session" AS (
     INSERT INTO "Session" ("id", "userId", "mode", "userAgent", "ip", "createdAt", "lastUsedAt", "expiresAt")
     SELECT $3::uuid, "id", $4::"AuthMode", $5, $6, ${TS(7)}, ${TS(7)}, ${TS(8)} FROM "user"
     RETURNING "id"
   ), "token" AS (
     INSERT INTO "SessionToken" ("id", "sessionId", "kind", "secretHash", "createdAt", "expiresAt")
     SELECT $9::uuid, "id", $10::"SessionTokenKind", $11, ${TS(7)}, ${TS(8)} FROM "session"
   )
   SELECT u."roleId", ARRAY(SELECT p."policyId"::text FROM "UserPolicy" p WHERE p."userId" = u."id") AS "policyIds"
   FROM "user" u JOIN "session" ON true`,
);

/**
 * A token with its session, and the user's status and grants (token-row.ts): prepared, it runs on
 * every session-cookie request (see findLiveToken); a refresh reads it in TokenFamily.refresh.
 */
const READ_TOKEN = statement('session.read-token', TOKEN_ROW_SELECT);

const USER_AGENT_MAX = 512;
/** Session-cookie requests record lastUsedAt at most this often: not a write per request. */
const LAST_USED_THROTTLE_MS = 60_000;
const MAX_LISTED_SESSIONS = 100;

/**
 * Sessions and their opaque tokens. A session is one login; its current token is a refresh token
 * or a session-cookie token, used once: refreshing marks it used and issues a successor.
 */
export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly signingKeys: SigningKeyService,
    private readonly revocations: RevocationService,
    private readonly config: Config,
    private readonly family: TokenFamily,
    private readonly auditLog: AuditLog,
  ) {}

  /**
   * Writes the session of a login whose password (and code) checked out against the user's
   * credentials at `credentialVersion` (see writeSession). `twoFactorEnabled`, when the caller read
   * it already, spares the credentials a look-up.
   */
  createSession(
    userId: string,
    mode: AuthMode,
    client: ClientInfo,
    credentialVersion: number,
    twoFactorEnabled?: boolean,
  ): Promise<IssuedCredentials> {
    return this.writeSession(this.prepareSession(userId, mode, client, twoFactorEnabled), credentialVersion);
  }

  /**
   * What a login's session is made of before anything is written: its id, its opaque token and its
   * lifetime, and, given the grants the caller read with the user (`expectedGrants`), the access
   * token for them, started now. A password login prepares its session while the password is being
   * verified, so that only the session write is left once the check succeeds; the access token is
   * handed out only if writeSession reads the same grants under its lock (else it is signed again),
   * and is dropped unused when the login fails.
   */
  prepareSession(
    userId: string,
    mode: AuthMode,
    client: ClientInfo,
    twoFactorEnabled?: boolean,
    expectedGrants?: UserGrants,
  ): PreparedSession {
    const ttl = Math.min(this.tokenTtl(mode), this.config.tokens.sessionMaxAgeSeconds);
    const now = new Date();
    const session: Omit<PreparedSession, 'ahead'> = {
      userId,
      mode,
      client,
      twoFactorEnabled,
      sessionId: randomUUID(),
      opaque: createOpaqueToken(),
      ttl,
      now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
    };
    if (!expectedGrants) return { ...session, ahead: null };
    const before = this.access.accessVersion();
    const credentials = this.credentials(
      userId,
      session.sessionId,
      mode,
      session.opaque.token,
      ttl,
      expectedGrants,
      client.ip,
      twoFactorEnabled,
    ).then((issued) => {
      const after = this.access.accessVersion();
      return { issued, accessVersion: before === after && after !== -1 ? after : null };
    });
    credentials.catch(() => {}); // looked at only when the login succeeds (writeSession)
    return { ...session, ahead: { grants: expectedGrants, credentials } };
  }

  /**
   * Writes a prepared session. One statement holds a share lock on the user row while it reads the
   * version and status again and writes the session only if both still hold: a password change,
   * reset, 2FA change, suspension or deletion either committed before (then the login fails) or
   * waits for this statement and then finds the session to end. The same statement returns the
   * user's grants (read under that lock) for the access token: one round trip in all (see
   * db/raw.ts). The token prepared ahead is used only for exactly these grants.
   */
  async writeSession(prepared: PreparedSession, credentialVersion: number): Promise<IssuedCredentials> {
    const { userId, sessionId, mode, client, opaque, now, expiresAt, ttl } = prepared;
    const [grants] = await queryRows<{ roleId: string | null; policyIds: string[] }>(this.db, WRITE_SESSION, [
      userId,
      credentialVersion,
      sessionId,
      mode,
      client.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      client.ip,
      now.toISOString(),
      expiresAt.toISOString(),
      opaque.id,
      kindOf(mode),
      opaque.secretHash,
    ]);
    if (!grants) throw new AppError('INVALID_CREDENTIALS');
    const userGrants = { roleId: grants.roleId, policies: grants.policyIds.map((policyId) => ({ policyId })) };
    if (prepared.ahead && sameGrants(prepared.ahead.grants, userGrants)) {
      // Used only if nothing it was made from changed: the same grants (read under the lock), the
      // same policies (an edit while the hash ran, or waited its turn, changes what the claim must
      // name), and recent enough that its iat/exp are those of now (a hash that queued long gets a
      // token signed now). Failed ahead (the snapshot could not be loaded then): made afresh.
      const ahead = await prepared.ahead.credentials.catch(() => null);
      if (
        ahead &&
        ahead.accessVersion !== null &&
        ahead.accessVersion === this.access.accessVersion() &&
        Date.now() - prepared.now.getTime() < PREPARED_TOKEN_MAX_AGE_MS
      )
        return ahead.issued;
    }
    return this.credentials(userId, sessionId, mode, opaque.token, ttl, userGrants, client.ip, prepared.twoFactorEnabled);
  }

  /**
   * Exchanges a refresh or session token for new credentials in the requested mode. Each token is
   * exchanged once (see TokenFamily): concurrent refreshes of one token all receive the same
   * successor or a clean error. A used token presented again gets that successor too, within
   * REFRESH_REUSE_GRACE or once later while the successor was never presented (a lost answer);
   * otherwise the token has been copied, so the whole session is revoked. The new
   * access token's policies are those in force for `client`'s address now.
   */
  async refresh(token: string, mode: AuthMode, client: ClientInfo): Promise<IssuedCredentials> {
    const parsed = parseOpaqueToken(token);
    if (!parsed) throw new AppError('INVALID_TOKEN');
    // One round trip when the token is live and unused (the common case): read, claim and rotate
    // in one statement, which claims exactly when liveToken accepts the row it read.
    const now = Date.now();
    const attempt = await this.family.refresh(parsed, mode, this.tokenTtl(mode), this.config.tokens.sessionMaxAgeSeconds, now);
    // Required whether or not the statement claimed: the replay below trusts this check of the secret.
    const row = this.liveToken(attempt.row && tokenRecord(attempt.row), parsed.secret, now);
    const userId = row.session.userId;
    if (attempt.issued) {
      const audit = { userId, sessionId: row.sessionId, ip: client.ip, userAgent: client.userAgent };
      this.auditLog.record({ type: 'token.refreshed', ...audit, details: { mode } });
      return this.credentials(userId, row.sessionId, mode, attempt.issued.token, attempt.issued.ttl, row.session.user, client.ip);
    }
    // Live but not claimed: used already, or claimed a moment ago by a concurrent refresh.
    const replay = await this.family.replay(row.id, kindOf(mode));
    if (replay.outcome === 'reuse') {
      await this.revokeSession(row.sessionId, 'refresh-token-reuse');
      this.auditLog.record({
        type: 'token.reuse_detected',
        outcome: 'failure',
        userId,
        sessionId: row.sessionId,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { sessionRevoked: true },
      });
      throw new AppError('INVALID_TOKEN');
    }
    if (replay.outcome !== 'successor') throw new AppError('INVALID_TOKEN');
    const remaining = Math.floor((replay.expiresAt.getTime() - Date.now()) / 1000);
    if (remaining <= 0) throw new AppError('TOKEN_EXPIRED');
    return this.credentials(userId, row.sessionId, mode, replay.token, remaining, row.session.user, client.ip);
  }

  /**
   * Ends the session a token belongs to; a used or expired token still names its session. With
   * `allSessions` ("log out everywhere") it ends every session of the user, and then the token
   * must belong to a live session: an old token of an ended session proves nothing.
   */
  async revokeByToken(
    token: string,
    reason: string,
    options: { allSessions?: boolean } = {},
  ): Promise<{ userId: string | null; sessionId: string; count: number }> {
    if (options.allSessions) {
      const row = await this.findLiveToken(token);
      const count = await this.revokeUserSessions(row.session.userId, reason);
      return { userId: row.session.userId, sessionId: row.sessionId, count };
    }
    const parsed = parseOpaqueToken(token);
    const row =
      parsed &&
      (await this.db.sessionToken.findUnique({
        where: { id: parsed.id },
        select: { sessionId: true, secretHash: true, session: { select: { userId: true } } },
      }));
    if (!parsed || !row || !secretMatches(parsed.secret, row.secretHash)) throw new AppError('INVALID_TOKEN');
    const ended = await this.revokeSession(row.sessionId, reason);
    return { userId: row.session.userId, sessionId: row.sessionId, count: ended ? 1 : 0 };
  }

  /** The user's live sessions among those `allowed` selects, most recently used first. */
  listLiveSessions(userId: string, allowed: Prisma.SessionWhereInput = {}): Promise<SessionSummary[]> {
    return this.db.session.findMany({
      where: { AND: [allowed, { userId, revokedAt: null, expiresAt: { gt: new Date() } }] },
      orderBy: [{ lastUsedAt: 'desc' }, { id: 'asc' }],
      take: MAX_LISTED_SESSIONS,
      select: { id: true, userId: true, createdAt: true, lastUsedAt: true, expiresAt: true, userAgent: true, ip: true },
    });
  }

  /**
   * Ends one live session among those `allowed` selects (the caller's sessions:delete permission,
   * by default the viewer's own). A session outside it, an ended one and an id that does not exist
   * all give the same NOT_FOUND, so ids of other users' sessions cannot be probed.
   */
  async revokeAllowedSession(
    allowed: Prisma.SessionWhereInput,
    sessionId: string,
    actor: { userId: string | null; admin: boolean },
  ): Promise<{ userId: string | null; by: 'user' | 'admin' }> {
    if (!isUuid(sessionId)) throw new AppError('NOT_FOUND');
    const live = { AND: [allowed, { id: sessionId, expiresAt: { gt: new Date() } }] };
    if (!actor.admin) {
      // Only an admin ends an admin's sessions (as only an admin changes an admin): NOT_FOUND, like any session out of reach.
      const owner = (await this.db.session.findFirst({ where: live, select: { userId: true } }))?.userId;
      if (owner && owner !== actor.userId && (await this.access.policyExists(await this.access.policyIdsOfUser(owner))).grantsAdmin)
        throw new AppError('NOT_FOUND');
    }
    const actorUserId = actor.userId;
    // The reason records whether the owner or someone else (an admin) ended it.
    const byUser = actorUserId ? await this.revokeWhere({ AND: [live, { userId: actorUserId }] }, 'revoked-by-user') : 0;
    const ended = byUser || (await this.revokeWhere(live, 'revoked-by-admin'));
    if (ended === 0) throw new AppError('NOT_FOUND');
    const owner = await this.db.session.findUnique({ where: { id: sessionId }, select: { userId: true } });
    return { userId: owner?.userId ?? null, by: byUser ? 'user' : 'admin' };
  }

  /** Ends one session; its access tokens are refused from now on, on every instance. */
  async revokeSession(sessionId: string, reason: string): Promise<boolean> {
    return (await this.revokeWhere({ id: sessionId }, reason)) > 0;
  }

  /**
   * Ends every session of a user (password reset, suspension, "log out everywhere"), or every
   * one but `exceptSessionId` (password change). Returns how many were ended.
   */
  async revokeUserSessions(userId: string, reason: string, exceptSessionId?: string): Promise<number> {
    return this.revokeWhere({ userId, ...(exceptSessionId ? { id: { not: exceptSessionId } } : {}) }, reason);
  }

  /**
   * Inside the caller's transaction (deleting a user): marks the user's sessions revoked. Pass the
   * result to announceRevocations once the transaction committed.
   */
  markUserSessionsRevoked(tx: TransactionClient, userId: string, reason: string): Promise<Revocation[]> {
    return this.markRevoked(tx, { userId }, reason);
  }

  announceRevocations(revocations: readonly Revocation[]): Promise<void> {
    return this.revocations.record(revocations);
  }

  /** Every revocation goes through here, so the revocation view hears of each one. */
  private async revokeWhere(where: Prisma.SessionWhereInput, reason: string): Promise<number> {
    const revocations = await this.markRevoked(this.db, where, reason);
    await this.revocations.record(revocations);
    return revocations.length;
  }

  private async markRevoked(client: TransactionClient, where: Prisma.SessionWhereInput, reason: string): Promise<Revocation[]> {
    const rows = await client.session.updateManyAndReturn({
      where: { AND: [where, { revokedAt: null }] },
      data: { revokedAt: new Date(), revokedReason: reason },
      select: { id: true, revokedAt: true },
    });
    return rows.map((r) => ({ sessionId: r.id, revokedAt: r.revokedAt as Date }));
  }

  /** The viewer behind a session cookie, or null when the cookie proves nothing. */
  async validateSessionCookie(token: string): Promise<SessionViewer | null> {
    try {
      const row = await this.findLiveToken(token);
      if (row.kind !== 'SESSION' || row.usedAt) return null;
      const now = Date.now();
      // Its first use marks it presented (see TokenFamily): one conditional write per cookie value.
      if (!row.presentedAt)
        await this.db.sessionToken.updateMany({ where: { id: row.id, presentedAt: null }, data: { presentedAt: new Date(now) } });
      if (row.session.lastUsedAt.getTime() < now - LAST_USED_THROTTLE_MS) {
        // Conditional, so concurrent requests of one session write once.
        await this.db.session.updateMany({
          where: { id: row.sessionId, lastUsedAt: { lt: new Date(now - LAST_USED_THROTTLE_MS) } },
          data: { lastUsedAt: new Date(now) },
        });
      }
      return { userId: row.session.userId, sessionId: row.sessionId, policyIds: await this.access.policyIdsOfGrants(row.session.user) };
    } catch (error) {
      if (error instanceof AppError) return null;
      throw error;
    }
  }

  /** The presented token's row, used or not, as long as its session is live; throws otherwise. */
  private async findLiveToken(token: string) {
    const parsed = parseOpaqueToken(token);
    if (!parsed) throw new AppError('INVALID_TOKEN');
    const [row] = await queryRows<TokenRow>(this.db, READ_TOKEN, [parsed.id]);
    return this.liveToken(row ? tokenRecord(row) : null, parsed.secret, Date.now());
  }

  /**
   * The checks a presented token's row must pass at `now` (ms): the secret, the session and its
   * user, the expiries. TokenFamily.refresh applies the same conditions in SQL.
   */
  private liveToken(row: TokenRecord | null, secret: string, now: number) {
    if (!row || !secretMatches(secret, row.secretHash)) throw new AppError('INVALID_TOKEN');
    // A deleted user's sessions stay behind, revoked, with no user.
    const { userId, user } = row.session;
    if (row.session.revokedAt || !userId || user?.status !== 'ACTIVE') throw new AppError('INVALID_TOKEN');
    // A used token's own expiry no longer matters: the session's (its newest token's) does.
    if ((!row.usedAt && row.expiresAt.getTime() <= now) || row.session.expiresAt.getTime() <= now) throw new AppError('TOKEN_EXPIRED');
    // A session older than SESSION_MAX_AGE is over, however recently it was refreshed: log in again.
    if (this.remainingLifeSeconds(row.session.createdAt, now) <= 0) throw new AppError('TOKEN_EXPIRED');
    return { ...row, session: { ...row.session, userId, user } };
  }

  private remainingLifeSeconds(sessionCreatedAt: Date, now: number): number {
    return Math.floor((sessionCreatedAt.getTime() + this.config.tokens.sessionMaxAgeSeconds * 1000 - now) / 1000);
  }

  private async twoFactorEnabled(userId: string): Promise<boolean> {
    const row = await this.db.twoFactor.findUnique({ where: { userId }, select: { enabledAt: true } });
    return !!row?.enabledAt;
  }

  private tokenTtl(mode: AuthMode): number {
    return mode === 'SESSION' ? this.config.tokens.sessionTtlSeconds : this.config.tokens.refreshTtlSeconds;
  }

  private async credentials(
    userId: string,
    sessionId: string,
    mode: AuthMode,
    token: string,
    tokenTtl: number,
    grants: UserGrants,
    ip: string | null,
    twoFactorEnabled?: boolean,
  ): Promise<IssuedCredentials> {
    if (mode === 'SESSION') return { userId, sessionId, mode, accessToken: null, token, expiresIn: tokenTtl, tokenTtl };
    // A gateway may authorise on the claim alone, so it names only the policies in force for this
    // session now, as Gatehouse would apply them: those whose IP allow-list admits the client's
    // address, and none while one of those requires 2FA and the user has not enrolled.
    const access = await this.access.accessForPolicies(await this.access.policyIdsOfGrants(grants), ip);
    const twoFactorEnrolmentRequired = access.enforceTwoFactor && !(twoFactorEnabled ?? (await this.twoFactorEnabled(userId)));
    const policies = twoFactorEnrolmentRequired ? [] : await this.access.policyNames(access.policyIds);
    const ttl = this.config.tokens.accessTtlSeconds;
    const accessToken = await this.signingKeys.sign({ userId, sessionId, policies, twoFactorEnrolmentRequired });
    return { userId, sessionId, mode, accessToken, token, expiresIn: ttl, tokenTtl };
  }
}

/** A token signed while the password was checked is handed out only this soon after (see writeSession). */
const PREPARED_TOKEN_MAX_AGE_MS = 1000;

/** Whether two reads of a user's grants agree: the same role and the same direct policies, in any order. */
function sameGrants(a: UserGrants, b: UserGrants): boolean {
  if (a.roleId !== b.roleId || a.policies.length !== b.policies.length) return false;
  const ids = new Set(a.policies.map((p) => p.policyId));
  return b.policies.every((p) => ids.has(p.policyId));
}
