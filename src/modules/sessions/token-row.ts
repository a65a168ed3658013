import { dateOrNull, MS } from '../../db/raw.ts';
import type { SessionTokenKind, UserStatus } from '../../generated/prisma/enums.ts';

/** A token with its session, and the user's status and grants, as TOKEN_ROW_SELECT reads it (times in ms). */
export interface TokenRow {
  id: string;
  kind: SessionTokenKind;
  secretHash: string;
  sessionId: string;
  expiresAt: number;
  usedAt: number | null;
  presentedAt: number | null;
  userId: string | null;
  createdAt: number;
  revokedAt: number | null;
  sessionExpiresAt: number;
  lastUsedAt: number;
  status: UserStatus | null;
  roleId: string | null;
  policyIds: string[];
}

/**
 * The token whose id is `$1`, with its session, and the user's status and grants: all a refresh or
 * a session-cookie request needs to know, in one read. Shared by the plain read
 * (SessionService.findLiveToken) and the refresh that reads and claims in one statement (TokenFamily.refresh).
 */
export const TOKEN_ROW_SELECT = `SELECT t."id", t."kind"::text AS "kind", t."secretHash", t."sessionId",
     ${MS('t."expiresAt"')} AS "expiresAt", ${MS('t."usedAt"')} AS "usedAt", ${MS('t."presentedAt"')} AS "presentedAt",
     s."userId", ${MS('s."createdAt"')} AS "createdAt", ${MS('s."revokedAt"')} AS "revokedAt",
     ${MS('s."expiresAt"')} AS "sessionExpiresAt", ${MS('s."lastUsedAt"')} AS "lastUsedAt",
     u."status"::text AS "status", u."roleId",
     ARRAY(SELECT p."policyId"::text FROM "UserPolicy" p WHERE p."userId" = u."id") AS "policyIds"
   FROM "SessionToken" t
   JOIN "Session" s ON s."id" = t."sessionId"
   LEFT JOIN "User" u ON u."id" = s."userId"
   WHERE t."id" = $1::uuid`;

/** A token row with Dates, and its session's user as the access rules take it (null once deleted). */
export function tokenRecord(r: TokenRow) {
  return {
    id: r.id,
    kind: r.kind,
    secretHash: r.secretHash,
    expiresAt: new Date(r.expiresAt),
    usedAt: dateOrNull(r.usedAt),
    presentedAt: dateOrNull(r.presentedAt),
    sessionId: r.sessionId,
    session: {
      userId: r.userId,
      createdAt: new Date(r.createdAt),
      revokedAt: dateOrNull(r.revokedAt),
      expiresAt: new Date(r.sessionExpiresAt),
      lastUsedAt: new Date(r.lastUsedAt),
      user: r.status === null ? null : { status: r.status, roleId: r.roleId, policies: r.policyIds.map((policyId) => ({ policyId })) },
    },
  };
}

export type TokenRecord = ReturnType<typeof tokenRecord>;
