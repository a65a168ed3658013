import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { invitationMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import type { Access } from '../access/access.types.ts';
import { claimEmailToken, EmailTokenAccountGone, findEmailToken, issueEmailToken, voidEmailTokens } from '../email-tokens/email-tokens.ts';
import { buildAllowedLink, checkAllowedUrl, type LinkSource } from '../password-reset/reset-url.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import type { UsersService } from '../users/users.service.ts';
import { checkNewPassword } from '../users/users.validation.ts';

const INVITE_LINK: LinkSource = { field: 'inviteUrl', allowListName: 'USER_INVITE_URL_ALLOW_LIST' };

export interface Invitation {
  email: string;
  roleId?: string | null;
  policyIds?: string[] | null;
  inviteUrl?: string | null;
}

/**
 * Invitations: an INVITED user with the role and policies the inviter may grant (createUser's
 * rules), and a link with which the invitee chooses a password and becomes ACTIVE.
 */
export class InvitationService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    private readonly outbox: MailOutbox,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly userRows: UserRowCache,
  ) {}

  /**
   * Creates the invited user and mails the link; for a user still INVITED, mails a new link (the
   * old one stops working) and keeps their role and policies. An address of an account in any
   * other status is BAD_USER_INPUT: inviters hold users:create and can see as much anyway.
   */
  async inviteUser(inviterAccess: Access, invitation: Invitation): Promise<void> {
    const { inviteAllowList, inviteDefaultUrl } = this.config.lifecycle;
    checkAllowedUrl(invitation.inviteUrl, inviteAllowList, inviteDefaultUrl, INVITE_LINK);
    const { email, policyIds, roleId } = await this.users.checkNewUser(inviterAccess, {
      email: invitation.email,
      policies: invitation.policyIds ?? undefined,
      role: invitation.roleId ?? undefined,
    });
    const existing = await this.db.user.findUnique({ where: { email }, select: { id: true, status: true, credentialVersion: true } });
    if (existing && existing.status !== 'INVITED') throw badInput('email', 'already belongs to an account');
    if (existing) {
      try {
        await this.outbox.transaction((tx) =>
          this.mailInvitation(tx, { id: existing.id, email, credentialVersion: existing.credentialVersion }, invitation.inviteUrl),
        );
        this.logger.info({ userId: existing.id }, 'invitation mailed again');
        return;
      } catch (error) {
        // Swept as never confirmed while we looked: invite the address afresh.
        if (!(error instanceof EmailTokenAccountGone)) throw error;
      }
    }
    // No one knows this password: the account cannot be signed in to until the invitee sets one.
    const passwordHash = await this.hasher.hash(randomBytes(32).toString('base64url'), 'priority');
    try {
      const userId = await this.outbox.transaction(async (tx) => {
        const user = await tx.user.create({
          data: { email, passwordHash, status: 'INVITED', roleId, policies: { create: policyIds.map((policyId) => ({ policyId })) } },
          select: { id: true, credentialVersion: true },
        });
        await this.mailInvitation(tx, { id: user.id, email, credentialVersion: user.credentialVersion }, invitation.inviteUrl);
        return user.id;
      });
      this.logger.info({ userId }, 'user invited');
    } catch (error) {
      if (isUniqueViolation(error)) throw badInput('email', 'already belongs to an account');
      throw error;
    }
  }

  /** Sets the invitee's password and makes them ACTIVE; the token works once. It does not sign in. */
  async acceptInvite(token: string, password: string): Promise<string> {
    checkNewPassword(password, this.config.passwords);
    const row = await findEmailToken(this.db, token, 'INVITE', 'INVITED');
    const passwordHash = await this.hasher.hash(password, 'standard');
    await this.db.$transaction(async (tx) => {
      if (!(await claimEmailToken(tx, row.id))) throw new AppError('INVALID_TOKEN');
      const accepted = await tx.user.updateMany({
        where: { id: row.userId, status: 'INVITED', email: row.email, credentialVersion: row.credentialVersion },
        data: { status: 'ACTIVE', passwordHash, passwordChangedAt: new Date(), emailVerifiedAt: new Date(), ...NEW_CREDENTIAL_VERSION },
      });
      if (accepted.count !== 1) throw new AppError('INVALID_TOKEN');
      await voidEmailTokens(tx, row.userId, ['INVITE']);
    });
    await this.userRows.changed([row.userId]);
    return row.userId;
  }

  private async mailInvitation(
    tx: TransactionClient,
    user: { id: string; email: string; credentialVersion: number },
    inviteUrl: string | null | undefined,
  ): Promise<void> {
    const { inviteTtlSeconds, inviteAllowList, inviteDefaultUrl } = this.config.lifecycle;
    const token = await issueEmailToken(tx, {
      kind: 'INVITE',
      userId: user.id,
      email: user.email,
      credentialVersion: user.credentialVersion,
      ttlSeconds: inviteTtlSeconds,
    });
    const link = buildAllowedLink(inviteUrl, inviteAllowList, inviteDefaultUrl, token, INVITE_LINK);
    await this.outbox.enqueue(tx, { ...invitationMail(user.email, link, inviteTtlSeconds), kind: 'invitation' });
  }
}
