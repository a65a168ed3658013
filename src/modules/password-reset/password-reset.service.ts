import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config/config.ts';
import { createOpaqueToken, parseOpaqueToken, secretMatches } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { passwordResetMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { LockoutService } from '../rate-limits/lockout.service.ts';
import type { ClientInfo, SessionService } from '../sessions/session.service.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import { checkNewPassword, normalizeEmail } from '../users/users.validation.ts';
import { buildResetLink, checkResetUrl } from './reset-url.ts';

export class PasswordResetService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly outbox: MailOutbox,
    private readonly background: BackgroundTasks,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly lockout: LockoutService,
    private readonly userRows: UserRowCache,
    private readonly auditLog: AuditLog,
  ) {}

  /**
   * Validates the input, then answers at once; looking the account up and writing the token with
   * its mail happen in the background, so neither the answer nor its timing tells whether the
   * email has an account. The token and its outbox row commit together: a link that exists is
   * mailed, whatever SMTP does meanwhile.
   */
  requestReset(emailInput: string, resetUrl: string | null | undefined, client: ClientInfo): void {
    const { allowList, defaultUrl } = this.config.passwordReset;
    checkResetUrl(resetUrl, allowList, defaultUrl);
    const email = normalizeEmail(emailInput);
    this.background.run('password-reset-mail', () => this.queueResetMail(email, resetUrl, client));
  }

  private async queueResetMail(email: string, resetUrl: string | null | undefined, client: ClientInfo): Promise<void> {
    // The version is read with the address the link goes to: a later change of either voids the link.
    const user = await this.db.user.findUnique({ where: { email }, select: { id: true, status: true, credentialVersion: true } });
    // Recorded here, in the background, so the answer's timing still tells nothing.
    this.auditLog.record({
      type: 'password.reset_requested',
      userId: user?.id ?? null,
      email,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { mailed: user?.status === 'ACTIVE' },
    });
    if (user?.status !== 'ACTIVE') {
      this.logger.info('password reset requested for an address without an active account');
      return;
    }
    const ttl = this.config.tokens.resetTtlSeconds;
    const opaque = createOpaqueToken();
    const { allowList, defaultUrl } = this.config.passwordReset;
    const link = buildResetLink(resetUrl, allowList, defaultUrl, opaque.token);
    await this.db.$transaction(async (tx) => {
      await tx.passwordResetToken.create({
        data: {
          id: opaque.id,
          userId: user.id,
          secretHash: opaque.secretHash,
          credentialVersion: user.credentialVersion,
          expiresAt: new Date(Date.now() + ttl * 1000),
        },
      });
      await this.outbox.enqueue(tx, { kind: 'password-reset', ...passwordResetMail(email, link, Math.max(1, Math.round(ttl / 60))) });
    });
    this.outbox.wake();
    this.logger.info({ userId: user.id }, 'password reset mail queued');
  }

  /**
   * Sets a new password with a reset token. The token works once, and only while the account's
   * credentials (email, password, 2FA) are those it was mailed under; setting the password voids
   * every other reset token of the user and ends all of their sessions.
   */
  async resetPassword(token: string, password: string, client: ClientInfo): Promise<void> {
    checkNewPassword(password, this.config.passwords);
    const parsed = parseOpaqueToken(token);
    const row =
      parsed &&
      (await this.db.passwordResetToken.findUnique({
        where: { id: parsed.id },
        include: { user: { select: { status: true, email: true, credentialVersion: true } } },
      }));
    if (
      !parsed ||
      !row ||
      !secretMatches(parsed.secret, row.secretHash) ||
      row.usedAt ||
      row.user.status !== 'ACTIVE' ||
      row.credentialVersion !== row.user.credentialVersion
    ) {
      throw new AppError('INVALID_TOKEN');
    }
    if (row.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');

    const passwordHash = await this.hasher.hash(password, 'priority');
    const now = new Date();
    const claimed = await this.db.passwordResetToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: now } });
    if (claimed.count !== 1) throw new AppError('INVALID_TOKEN');
    const [changed] = await this.db.$transaction([
      // Only under the version the link was mailed with: a change committed meanwhile voids it.
      this.db.user.updateMany({
        where: { id: row.userId, credentialVersion: row.credentialVersion },
        data: { passwordHash, passwordChangedAt: now, emailVerifiedAt: now, ...NEW_CREDENTIAL_VERSION },
      }),
      this.db.passwordResetToken.updateMany({ where: { userId: row.userId, usedAt: null }, data: { usedAt: now } }),
    ]);
    if (changed.count !== 1) throw new AppError('INVALID_TOKEN');
    await this.userRows.changed([row.userId]);
    const ended = await this.sessions.revokeUserSessions(row.userId, 'password-reset');
    this.auditLog.record({
      type: 'password.reset_completed',
      userId: row.userId,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { sessionsEnded: ended },
    });
    await this.lockout.clearAccount(row.user.email);
  }
}
