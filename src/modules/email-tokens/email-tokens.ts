import { createOpaqueToken, parseOpaqueToken, secretMatches } from '../../crypto/tokens.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import type { EmailTokenKind, UserStatus } from '../../generated/prisma/enums.ts';

// The link tokens of the account lifecycle (see the EmailToken model). Each mutation names the
// one kind it accepts, so a verification link is no invitation, and neither is a reset token
// (those live in PasswordResetToken): a token of another kind is simply not found.

export interface NewEmailToken {
  kind: EmailTokenKind;
  userId: string;
  email: string;
  credentialVersion: number;
  ttlSeconds: number;
  sessionId?: string | null;
}

/** The account a link was to be issued for was deleted meanwhile (the retention sweep, an administrator). */
export class EmailTokenAccountGone extends Error {
  constructor() {
    super('the account was deleted before its link was issued');
  }
}

/**
 * Writes a new token inside the caller's transaction (the one that also enqueues its mail) and
 * voids the user's earlier unused tokens of that kind: only the newest link works. Returns the
 * token to mail, `<id>.<secret>`; only the secret's SHA-256 is stored.
 */
export async function issueEmailToken(tx: TransactionClient, input: NewEmailToken): Promise<string> {
  const now = new Date();
  // Re-dating the account locks its row until the transaction ends: the retention sweep, which
  // deletes never-confirmed accounts whose row is older than its cut-off and rechecks that on the
  // row it deletes, then either waits and keeps it, or had deleted it already (nothing to mail).
  const touched = await tx.user.updateMany({ where: { id: input.userId }, data: { updatedAt: now } });
  if (touched.count === 0) throw new EmailTokenAccountGone();
  await tx.emailToken.updateMany({ where: { userId: input.userId, kind: input.kind, usedAt: null }, data: { usedAt: now } });
  const opaque = createOpaqueToken();
  await tx.emailToken.create({
    data: {
      id: opaque.id,
      kind: input.kind,
      userId: input.userId,
      email: input.email,
      secretHash: opaque.secretHash,
      credentialVersion: input.credentialVersion,
      sessionId: input.sessionId ?? null,
      // The process clock for both, as expiry is checked against it.
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
    },
  });
  return opaque.token;
}

export interface ValidEmailToken {
  id: string;
  userId: string;
  email: string;
  credentialVersion: number;
  sessionId: string | null;
}

/**
 * The unused token of `kind` whose secret matches, issued to a user who is still in `status` under
 * the same credential version (and, unless it is an EMAIL_CHANGE token, still at the address the
 * link went to). INVALID_TOKEN otherwise, and only then TOKEN_EXPIRED, so an expired token tells
 * nothing to someone who does not hold it.
 */
export async function findEmailToken(db: Database, token: string, kind: EmailTokenKind, status: UserStatus): Promise<ValidEmailToken> {
  const parsed = parseOpaqueToken(token);
  const row =
    parsed &&
    (await db.emailToken.findUnique({
      where: { id: parsed.id },
      include: { user: { select: { status: true, email: true, credentialVersion: true } } },
    }));
  if (
    !parsed ||
    !row ||
    row.kind !== kind ||
    !secretMatches(parsed.secret, row.secretHash) ||
    row.usedAt ||
    row.user.status !== status ||
    row.credentialVersion !== row.user.credentialVersion ||
    (kind !== 'EMAIL_CHANGE' && row.email !== row.user.email)
  ) {
    throw new AppError('INVALID_TOKEN');
  }
  if (row.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');
  return { id: row.id, userId: row.userId, email: row.email, credentialVersion: row.credentialVersion, sessionId: row.sessionId };
}

/** Marks the token used inside the caller's transaction; false when another request used it first. */
export async function claimEmailToken(tx: TransactionClient, id: string): Promise<boolean> {
  const claimed = await tx.emailToken.updateMany({ where: { id, usedAt: null }, data: { usedAt: new Date() } });
  return claimed.count === 1;
}

/** Voids every unused token of the user (of the given kinds, or all). */
export async function voidEmailTokens(tx: TransactionClient, userId: string, kinds?: EmailTokenKind[]): Promise<void> {
  await tx.emailToken.updateMany({
    where: { userId, usedAt: null, ...(kinds ? { kind: { in: kinds } } : {}) },
    data: { usedAt: new Date() },
  });
}
