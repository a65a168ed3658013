import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config/config.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { emailVerificationMail, registrationAttemptMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import { applyWriteRule } from '../access/access.check.ts';
import type { AccessService } from '../access/access.service.ts';
import { claimEmailToken, EmailTokenAccountGone, findEmailToken, issueEmailToken, voidEmailTokens } from '../email-tokens/email-tokens.ts';
import { buildAllowedLink, checkAllowedUrl, type LinkSource } from '../password-reset/reset-url.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import { checkNewPassword, normalizeEmail } from '../users/users.validation.ts';

const VERIFY_LINK: LinkSource = { field: 'verificationUrl', allowListName: 'USER_REGISTER_URL_ALLOW_LIST' };

/** What register may set, and what the permission's presets may add. */
type RegistrationFields = { email: string; password: string; policies?: string[] | null; role?: string | null };

export interface Registrant {
  email: string;
  password: string;
  verificationUrl: string | null | undefined;
  ip: string | null;
}

/**
 * Self-registration with a verified address. Whether the address is new or taken, register checks
 * and hashes the password and answers true; then, in the background, it writes one mail in one
 * transaction: a new address becomes an UNVERIFIED user with a verification link (ACTIVE at once,
 * without mail, when REGISTRATION_VERIFY_EMAIL=false); a taken one creates nothing and its owner
 * gets a notice. A failure there (the database gone) is logged; the registrant, who gets no
 * mail, registers again.
 */
export class RegistrationService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly access: AccessService,
    private readonly outbox: MailOutbox,
    private readonly background: BackgroundTasks,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly userRows: UserRowCache,
  ) {}

  async register({ email: emailInput, password, verificationUrl, ip }: Registrant): Promise<void> {
    const { registerAllowList, verifyDefaultUrl } = this.config.lifecycle;
    checkAllowedUrl(verificationUrl, registerAllowList, verifyDefaultUrl, VERIFY_LINK);
    // Open as far as the public policy's users:create permission: the same fields, the same presets.
    const rule = (await this.access.publicAccess(ip)).rule('users', 'create');
    const data = applyWriteRule<RegistrationFields>(rule, { email: emailInput, password }, ['email', 'password']);
    const email = normalizeEmail(data.email);
    checkNewPassword(password, this.config.passwords);
    // Hashed for a taken address too, and waited for: both answers take as long, and a flood of
    // registrations queues at the hashing gate like logins do (SERVICE_BUSY past its bounds).
    const passwordHash = await this.hasher.hash(password, 'standard');
    // Looking the address up and writing differ between a new and a taken address: they happen
    // after the answer, so neither the answer nor its timing tells which it was.
    this.background.run('registration', () =>
      this.registerHashed(email, passwordHash, data.policies ?? [], data.role ?? null, verificationUrl),
    );
  }

  private async registerHashed(
    email: string,
    passwordHash: string,
    policyIds: string[],
    roleId: string | null,
    verificationUrl: string | null | undefined,
  ): Promise<void> {
    // Looked at again when the account changed between the look-up and the write: verified (taken
    // after all), swept as never confirmed (gone: created afresh), or registered by a concurrent request.
    for (let look = 0; look < 2; look++) {
      const taken = await this.db.user.findUnique({ where: { email }, select: { id: true, status: true } });
      // Not yet verified: nobody has proven they own the address, so the first registrant's password
      // must not win. The newest registration's password replaces it, and only the newest link works
      // (the credential version voids older ones): whoever opens the mailbox activates the password
      // of the registration whose link they open, never one chosen earlier by someone else.
      if (taken?.status === 'UNVERIFIED') {
        if (await this.replaceUnverified(taken.id, email, passwordHash, verificationUrl)) return;
        continue;
      }
      if (taken) break;
      try {
        await this.createUnverified(email, passwordHash, policyIds, roleId, verificationUrl);
        return;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    await this.outbox.transaction((tx) => this.outbox.enqueue(tx, { ...registrationAttemptMail(email), kind: 'registration-attempt' }));
    this.logger.info('registration attempted with an address that has an account');
  }

  /** False when the account left UNVERIFIED meanwhile (verified, or changed by an administrator). */
  private async replaceUnverified(
    userId: string,
    email: string,
    passwordHash: string,
    verificationUrl: string | null | undefined,
  ): Promise<boolean> {
    const replaced = await this.outbox.transaction(async (tx) => {
      const [user] = await tx.user.updateManyAndReturn({
        where: { id: userId, status: 'UNVERIFIED', email },
        data: { passwordHash, passwordChangedAt: new Date(), ...NEW_CREDENTIAL_VERSION },
        select: { id: true, credentialVersion: true },
      });
      if (!user) return false;
      await this.mailVerification(tx, { id: user.id, email, credentialVersion: user.credentialVersion }, verificationUrl);
      return true;
    });
    if (replaced) {
      await this.userRows.changed([userId]);
      this.logger.info({ userId }, 'registration repeated for an unverified account: new password, new link');
    }
    return replaced;
  }

  private async createUnverified(
    email: string,
    passwordHash: string,
    policyIds: string[],
    roleId: string | null,
    verificationUrl: string | null | undefined,
  ): Promise<void> {
    const verify = this.config.lifecycle.verifyEmail;
    const userId = await this.outbox.transaction(async (tx) => {
      const user = await tx.user.create({
        data: {
          email,
          passwordHash,
          status: verify ? 'UNVERIFIED' : 'ACTIVE',
          roleId,
          policies: { create: [...new Set(policyIds)].map((policyId) => ({ policyId })) },
        },
        select: { id: true, credentialVersion: true },
      });
      if (verify) await this.mailVerification(tx, { id: user.id, email, credentialVersion: user.credentialVersion }, verificationUrl);
      return user.id;
    });
    this.logger.info({ userId }, verify ? 'user registered, verification mailed' : 'user registered');
  }

  /**
   * Answers at once whatever the address; a new link (voiding the previous one) goes out in the
   * background, and only to an UNVERIFIED account, so neither answer nor timing tells anything.
   */
  resendVerificationEmail(emailInput: string, verificationUrl: string | null | undefined): void {
    const { registerAllowList, verifyDefaultUrl } = this.config.lifecycle;
    checkAllowedUrl(verificationUrl, registerAllowList, verifyDefaultUrl, VERIFY_LINK);
    const email = normalizeEmail(emailInput);
    this.background.run('verification-resend', async () => {
      const user = await this.db.user.findUnique({ where: { email }, select: { id: true, status: true, credentialVersion: true } });
      if (user?.status !== 'UNVERIFIED') return;
      try {
        await this.outbox.transaction((tx) =>
          this.mailVerification(tx, { id: user.id, email, credentialVersion: user.credentialVersion }, verificationUrl),
        );
      } catch (error) {
        // Swept as never confirmed meanwhile: there is no account left to verify (registering again makes one).
        if (!(error instanceof EmailTokenAccountGone)) throw error;
      }
    });
  }

  /** Makes an UNVERIFIED account ACTIVE; the token works once, and only for the address it was mailed to. */
  async verifyEmail(token: string): Promise<string> {
    const row = await findEmailToken(this.db, token, 'VERIFY_EMAIL', 'UNVERIFIED');
    await this.db.$transaction(async (tx) => {
      if (!(await claimEmailToken(tx, row.id))) throw new AppError('INVALID_TOKEN');
      const activated = await tx.user.updateMany({
        where: { id: row.userId, status: 'UNVERIFIED', email: row.email, credentialVersion: row.credentialVersion },
        data: { status: 'ACTIVE', emailVerifiedAt: new Date() },
      });
      if (activated.count !== 1) throw new AppError('INVALID_TOKEN');
      await voidEmailTokens(tx, row.userId, ['VERIFY_EMAIL']);
    });
    await this.userRows.changed([row.userId]);
    return row.userId;
  }

  private async mailVerification(
    tx: TransactionClient,
    user: { id: string; email: string; credentialVersion: number },
    verificationUrl: string | null | undefined,
  ): Promise<void> {
    const { verificationTtlSeconds, registerAllowList, verifyDefaultUrl } = this.config.lifecycle;
    const token = await issueEmailToken(tx, {
      kind: 'VERIFY_EMAIL',
      userId: user.id,
      email: user.email,
      credentialVersion: user.credentialVersion,
      ttlSeconds: verificationTtlSeconds,
    });
    const link = buildAllowedLink(verificationUrl, registerAllowList, verifyDefaultUrl, token, VERIFY_LINK);
    await this.outbox.enqueue(tx, { ...emailVerificationMail(user.email, link, verificationTtlSeconds), kind: 'email-verification' });
  }
}
