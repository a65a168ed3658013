import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import { utc } from '../../db/sql.ts';
import type { Logger } from '../../log/logger.ts';

/** Rows per DELETE: short statements, so a large first sweep never holds long locks. */
const BATCH = 5000;
const DAY_MS = 86_400_000;
/** Sent mails stay (content already erased) a day, for the operators' counts; failed ones a week, to be looked at or retried. */
export const SENT_MAIL_RETENTION_MS = DAY_MS;
export const FAILED_MAIL_RETENTION_MS = 7 * DAY_MS;

export interface SweepResult {
  sessions: number;
  sessionTokens: number;
  resetTokens: number;
  sentMails: number;
  failedMails: number;
  loginCodes: number;
  authEvents: number;
  unconfirmedUsers: number;
  emailTokens: number;
}

/**
 * Deletes what no longer serves anyone, every RETENTION_SWEEP_INTERVAL (each instance; the
 * deletes are idempotent):
 * - ended sessions (revoked or expired) ENDED_SESSION_RETENTION after they ended, with their
 *   tokens; by then their access tokens have long expired, so no instance still needs the
 *   revocation row;
 * - exchanged or expired tokens of sessions that live on, a day after their own expiry (until
 *   then a replayed one is still recognised as reuse and ends its session);
 * - password-reset tokens a day after they were used or expired;
 * - outbox mails a day after they were sent, failed ones a week after they failed (all scopes).
 * - single sign-on login codes and link tickets a day after they expired.
 * - audit events (AuthEvent) AUTH_EVENT_RETENTION after they were recorded.
 * - accounts never confirmed (UNVERIFIED, INVITED) UNCONFIRMED_ACCOUNT_RETENTION after their last
 *   link expired (see deleteUnconfirmedUsers);
 * - link tokens (EmailToken) a day after they were used or expired, except the pending link of an
 *   account still unconfirmed: it dates the account for the previous point until then.
 */
export class RetentionService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepResult> | null = null;

  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const every = this.config.retention.sweepSeconds * 1000;
    // Not at start-up (keeps it fast), and spread out so instances do not sweep in step.
    this.timer = setTimeout(() => this.tick(every), Math.min(every, 60_000) + Math.random() * Math.min(every, 60_000));
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress (its errors were logged already). */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private tick(every: number): void {
    void this.sweep()
      .then((result) => this.logger.info({ ...result }, 'retention sweep done'))
      .catch((error: unknown) => this.logger.error({ err: error }, 'retention sweep failed'))
      .finally(() => {
        if (this.timer === null) return;
        this.timer = setTimeout(() => this.tick(every), every);
        this.timer.unref();
      });
  }

  /** One sweep as of `now`; concurrent calls share it. */
  sweep(now = new Date()): Promise<SweepResult> {
    this.running ??= this.sweepOnce(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepOnce(now: Date): Promise<SweepResult> {
    const endedBefore = new Date(now.getTime() - this.config.retention.endedSessionSeconds * 1000);
    const dayAgo = new Date(now.getTime() - DAY_MS);
    const sessions = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "Session" WHERE "id" IN (
          SELECT "id" FROM "Session"
          WHERE "revokedAt" < ${utc(endedBefore)} OR ("revokedAt" IS NULL AND "expiresAt" < ${utc(endedBefore)})
          LIMIT ${limit})`,
    );
    const sessionTokens = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "SessionToken" WHERE "id" IN (
          SELECT "id" FROM "SessionToken" WHERE "expiresAt" < ${utc(dayAgo)} LIMIT ${limit})`,
    );
    const resetTokens = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "PasswordResetToken" WHERE "id" IN (
          SELECT "id" FROM "PasswordResetToken" WHERE "expiresAt" < ${utc(dayAgo)} OR "usedAt" < ${utc(dayAgo)} LIMIT ${limit})`,
    );
    const loginCodes = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "LoginCode" WHERE "id" IN (
          SELECT "id" FROM "LoginCode" WHERE "expiresAt" < ${utc(dayAgo)} LIMIT ${limit})`,
    );
    const sentBefore = new Date(now.getTime() - SENT_MAIL_RETENTION_MS);
    const sentMails = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "MailOutbox" WHERE "id" IN (
          SELECT "id" FROM "MailOutbox" WHERE "status" = 'SENT' AND "sentAt" < ${utc(sentBefore)} LIMIT ${limit})`,
    );
    const failedBefore = new Date(now.getTime() - FAILED_MAIL_RETENTION_MS);
    const failedMails = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "MailOutbox" WHERE "id" IN (
          SELECT "id" FROM "MailOutbox" WHERE "status" = 'FAILED' AND "failedAt" < ${utc(failedBefore)} LIMIT ${limit})`,
    );
    const eventsBefore = new Date(now.getTime() - this.config.retention.authEventSeconds * 1000);
    const authEvents = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "AuthEvent" WHERE "id" IN (
          SELECT "id" FROM "AuthEvent" WHERE "createdAt" < ${utc(eventsBefore)} LIMIT ${limit})`,
    );
    const unconfirmedUsers = await this.deleteUnconfirmedUsers(now);
    const emailTokens = await this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "EmailToken" WHERE "id" IN (
          SELECT t."id" FROM "EmailToken" t JOIN "User" u ON u."id" = t."userId"
          WHERE (t."expiresAt" < ${utc(dayAgo)} OR t."usedAt" < ${utc(dayAgo)})
            AND NOT (t."usedAt" IS NULL AND u."status" IN ('UNVERIFIED', 'INVITED'))
          LIMIT ${limit})`,
    );
    return { sessions, sessionTokens, resetTokens, sentMails, failedMails, loginCodes, authEvents, unconfirmedUsers, emailTokens };
  }

  /**
   * Accounts nobody confirmed: UNVERIFIED or INVITED, waiting on a link of their kind (a
   * verification, an invitation) that expired more than UNCONFIRMED_ACCOUNT_RETENTION ago, with no
   * newer link (registering again, a resend or a new invitation issues one), the row unchanged
   * since, never verified (emailVerifiedAt), and no session or single sign-on identity: an account
   * that ever signed in is left alone. Accounts set to these statuses without a link (createUser,
   * updateUser) are an administrator's to delete. The conditions on the row are repeated outside
   * the batch's sub-select, so a row changed meanwhile (registered again) is rechecked and kept.
   */
  private async deleteUnconfirmedUsers(now: Date): Promise<number> {
    const keepSeconds = this.config.retention.unconfirmedAccountSeconds;
    if (keepSeconds === null) return 0;
    const before = utc(new Date(now.getTime() - keepSeconds * 1000));
    return this.deleteInBatches(
      (limit) => this.db.$executeRaw`
        DELETE FROM "User" WHERE "id" IN (
          SELECT u."id" FROM "User" u
          WHERE u."status" IN ('UNVERIFIED', 'INVITED') AND u."emailVerifiedAt" IS NULL AND u."updatedAt" < ${before}
            AND EXISTS (
              SELECT 1 FROM "EmailToken" t WHERE t."userId" = u."id"
                AND ((u."status" = 'UNVERIFIED' AND t."kind" = 'VERIFY_EMAIL') OR (u."status" = 'INVITED' AND t."kind" = 'INVITE')))
            AND NOT EXISTS (SELECT 1 FROM "EmailToken" t WHERE t."userId" = u."id" AND t."expiresAt" >= ${before})
            AND NOT EXISTS (SELECT 1 FROM "Session" s WHERE s."userId" = u."id")
            AND NOT EXISTS (SELECT 1 FROM "Identity" i WHERE i."userId" = u."id")
          LIMIT ${limit})
        AND "status" IN ('UNVERIFIED', 'INVITED') AND "emailVerifiedAt" IS NULL AND "updatedAt" < ${before}`,
    );
  }

  private async deleteInBatches(deleteSome: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deleteSome(BATCH);
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }
}
