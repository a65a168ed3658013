import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { emailChangeConfirmationMail, emailChangeNoticeMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import { claimEmailToken, findEmailToken, issueEmailToken, voidEmailTokens } from '../email-tokens/email-tokens.ts';
import { buildAllowedLink, checkAllowedUrl, type LinkSource } from '../password-reset/reset-url.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { SessionService } from '../sessions/session.service.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import { normalizeEmail } from '../users/users.validation.ts';

// The confirmation link goes to a page on the registration allow-list (the default page differs).
const CONFIRM_LINK: LinkSource = { field: 'verificationUrl', allowListName: 'USER_REGISTER_URL_ALLOW_LIST' };

export interface EmailChangeRequest {
  userId: string;
  sessionId: string;
  newEmail: string;
  password: string;
  verificationUrl: string | null | undefined;
}

/**
 * A signed-in user's change of address: proven with the password, confirmed from the new mailbox,
 * announced to the old one. Confirming is a new credential version: reset, verification and
 * email-change links mailed before stop working, and every session but the one that asked ends.
 */
export class EmailChangeService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly outbox: MailOutbox,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly userRows: UserRowCache,
  ) {}

  /**
   * Mails a confirmation link to the new address and a notice to the current one. Whether the new
   * address has an account is not told here (confirming then answers EMAIL_TAKEN), so a signed-in
   * user cannot probe addresses with it. Only the newest request's link works.
   */
  async requestEmailChange({ userId, sessionId, newEmail: input, password, verificationUrl }: EmailChangeRequest): Promise<void> {
    const { registerAllowList, emailChangeDefaultUrl, emailChangeTtlSeconds } = this.config.lifecycle;
    checkAllowedUrl(verificationUrl, registerAllowList, emailChangeDefaultUrl, CONFIRM_LINK);
    const newEmail = normalizeNewEmail(input);
    if (password.length === 0 || password.length > this.config.passwords.maxLength * 4) throw new AppError('INVALID_CURRENT_PASSWORD');
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { email: true, passwordHash: true, status: true, credentialVersion: true },
    });
    if (user?.status !== 'ACTIVE') throw new AppError('FORBIDDEN');
    // An account without a password (single sign-on) sets one by reset first.
    if (!user.passwordHash || !(await this.hasher.verify(user.passwordHash, password, 'priority')))
      throw new AppError('INVALID_CURRENT_PASSWORD');
    if (newEmail === user.email) throw badInput('newEmail', 'is already the address of this account');

    await this.outbox.transaction(async (tx) => {
      const token = await issueEmailToken(tx, {
        kind: 'EMAIL_CHANGE',
        userId,
        email: newEmail,
        credentialVersion: user.credentialVersion,
        ttlSeconds: emailChangeTtlSeconds,
        sessionId,
      });
      const link = buildAllowedLink(verificationUrl, registerAllowList, emailChangeDefaultUrl, token, CONFIRM_LINK);
      await this.outbox.enqueue(tx, {
        ...emailChangeConfirmationMail(newEmail, link, emailChangeTtlSeconds),
        kind: 'email-change-confirmation',
      });
      await this.outbox.enqueue(tx, { ...emailChangeNoticeMail(user.email, newEmail), kind: 'email-change-notice' });
    });
    this.logger.info({ userId }, 'email change requested');
  }

  /**
   * Makes the new address the account's, once. EMAIL_TAKEN when another account holds it by now
   * (the token then stays usable, in case that account goes away before it expires).
   */
  async confirmEmailChange(token: string): Promise<string> {
    const row = await findEmailToken(this.db, token, 'EMAIL_CHANGE', 'ACTIVE');
    try {
      await this.db.$transaction(async (tx) => {
        if (!(await claimEmailToken(tx, row.id))) throw new AppError('INVALID_TOKEN');
        // Under the version the request was made with: a new password or address since voids it.
        const changed = await tx.user.updateMany({
          where: { id: row.userId, status: 'ACTIVE', credentialVersion: row.credentialVersion },
          data: { email: row.email, emailVerifiedAt: new Date(), ...NEW_CREDENTIAL_VERSION },
        });
        if (changed.count !== 1) throw new AppError('INVALID_TOKEN');
        // The new version already voids reset links; marking them used says so in the rows too.
        await tx.passwordResetToken.updateMany({ where: { userId: row.userId, usedAt: null }, data: { usedAt: new Date() } });
        await voidEmailTokens(tx, row.userId);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN', { cause: error });
      throw error;
    }
    await this.userRows.changed([row.userId]);
    await this.sessions.revokeUserSessions(row.userId, 'email-change', row.sessionId ?? undefined);
    this.logger.info({ userId: row.userId }, 'email changed');
    return row.userId;
  }
}

function normalizeNewEmail(input: string): string {
  try {
    return normalizeEmail(input);
  } catch {
    throw badInput('newEmail', 'must be a valid email address');
  }
}
