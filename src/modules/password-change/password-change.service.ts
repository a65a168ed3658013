import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { SessionService } from '../sessions/session.service.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import { checkNewPassword } from '../users/users.validation.ts';

export class PasswordChangeService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly config: Config,
    private readonly userRows: UserRowCache,
  ) {}

  /**
   * Sets a new password for a signed-in user who proves the current one. Every other session of
   * the user ends (their access tokens are refused at once) and outstanding reset tokens are void;
   * the session that made the change stays.
   */
  async changePassword(userId: string, currentSessionId: string, currentPassword: string, newPassword: string): Promise<void> {
    const { maxLength } = this.config.passwords;
    if (currentPassword.length === 0 || currentPassword.length > maxLength * 4) throw new AppError('INVALID_CURRENT_PASSWORD');
    checkNewPassword(newPassword, this.config.passwords, 'newPassword');
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { passwordHash: true, status: true, credentialVersion: true },
    });
    if (user?.status !== 'ACTIVE') throw new AppError('FORBIDDEN');
    // An account created by single sign-on has no password to prove: its owner sets one by reset.
    if (!user.passwordHash) throw new AppError('INVALID_CURRENT_PASSWORD');
    if (!(await this.hasher.verify(user.passwordHash, currentPassword, 'priority'))) throw new AppError('INVALID_CURRENT_PASSWORD');

    const passwordHash = await this.hasher.hash(newPassword, 'priority');
    const now = new Date();
    const [changed] = await this.db.$transaction([
      // Only if the credential is still the one verified: of two concurrent changes, one wins.
      this.db.user.updateMany({
        where: { id: userId, credentialVersion: user.credentialVersion },
        data: { passwordHash, passwordChangedAt: now, ...NEW_CREDENTIAL_VERSION },
      }),
      this.db.passwordResetToken.updateMany({ where: { userId, usedAt: null }, data: { usedAt: now } }),
    ]);
    if (changed.count !== 1) throw new AppError('INVALID_CURRENT_PASSWORD');
    await this.userRows.changed([userId]);
    await this.sessions.revokeUserSessions(userId, 'password-change', currentSessionId);
  }
}
