import type { Config } from '../../config/config.ts';
import { decryptString, encrypt } from '../../crypto/aead.ts';
import {
  createRecoveryCodes,
  createTotpSecret,
  hashRecoveryCode,
  KEYED_RECOVERY_CODE_PREFIX,
  plainRecoveryCodeHash,
  rehashPlainRecoveryCode,
  totpUri,
  verifyTotp,
} from '../../crypto/totp.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import { isRecordNotFound } from '../../db/errors.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { twoFactorChangedMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { ClientInfo, SessionService } from '../sessions/session.service.ts';
import { NEW_CREDENTIAL_VERSION } from '../users/credential-version.ts';
import type { UserRowCache } from '../users/user-rows.ts';

export interface TwoFactorSetup {
  secret: string;
  otpauthUrl: string;
  qrCode: string;
}

/** How long a generated secret waits for its confirming code. */
const PENDING_TTL_MS = 10 * 60 * 1000;
const RECOVERY_CODE_COUNT = 10;

/**
 * TOTP two-factor authentication. Secrets are sealed with AES-256-GCM and bound to their user;
 * recovery codes are stored as keyed hashes and work once; turning 2FA on or off is a new
 * credential version (see credential-version.ts); a TOTP code's time step must be newer than
 * the last one accepted, claimed with a conditional update so a code cannot be used twice even
 * by two requests at once.
 */
export class TwoFactorService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly outbox: MailOutbox,
    private readonly key: Uint8Array,
    /** Keys the recovery-code hashes (see hashRecoveryCode). */
    private readonly recoveryKey: Uint8Array,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly userRows: UserRowCache,
    private readonly auditLog: AuditLog,
  ) {}

  async isEnabled(userId: string): Promise<boolean> {
    const row = await this.db.twoFactor.findUnique({ where: { userId }, select: { enabledAt: true } });
    return !!row?.enabledAt;
  }

  /** Starts enrolment: needs the current password; nothing is enabled until a code confirms it. */
  async generateSecret(userId: string, password: string): Promise<TwoFactorSetup> {
    const user = await this.db.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true, passwordHash: true } });
    // Without a password (an account created by single sign-on) there is nothing to prove: set one by reset first.
    if (!user.passwordHash || !(await this.hasher.verify(user.passwordHash, password, 'priority')))
      throw new AppError('INVALID_CREDENTIALS');
    if (await this.isEnabled(userId)) {
      throw new AppError('BAD_USER_INPUT', { message: 'Two-factor authentication is already enabled; disable it first.' });
    }
    const secret = createTotpSecret();
    const pendingSecret = encrypt(this.key, secret, pendingAad(userId));
    const pendingExpiresAt = new Date(Date.now() + PENDING_TTL_MS);
    await this.db.twoFactor.upsert({
      where: { userId },
      create: { userId, pendingSecret, pendingExpiresAt },
      update: { pendingSecret, pendingExpiresAt },
    });
    const otpauthUrl = totpUri(secret, this.config.twoFactor.issuer, user.email);
    const { qrCodeToString } = await import('./qr-code.ts');
    const svg = await qrCodeToString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, otpauthUrl, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /** Confirms the pending secret with a code; returns the recovery codes, shown this once. */
  async enable(userId: string, currentSessionId: string, otp: string): Promise<string[]> {
    const row = await this.db.twoFactor.findUnique({ where: { userId } });
    // A pending secret must never replace an active one without the active one's code.
    if (row?.enabledAt)
      throw new AppError('BAD_USER_INPUT', { message: 'Two-factor authentication is already enabled; disable it first.' });
    if (!row?.pendingSecret || !row.pendingExpiresAt || row.pendingExpiresAt.getTime() <= Date.now()) {
      throw new AppError('BAD_USER_INPUT', { message: 'No pending secret: call generateTwoFactorSecret first.' });
    }
    const secret = decryptString(this.key, row.pendingSecret, pendingAad(userId));
    const step = await verifyTotp(secret, otp, null);
    if (step === null) throw new AppError('INVALID_OTP');
    const codes = createRecoveryCodes(RECOVERY_CODE_COUNT);
    try {
      await this.enableWith(userId, secret, step, codes);
    } catch (error) {
      if (isRecordNotFound(error))
        throw new AppError('BAD_USER_INPUT', { message: 'Two-factor authentication is already enabled; disable it first.' });
      throw error;
    }
    await this.afterChange(userId, currentSessionId, true);
    return codes;
  }

  private async enableWith(userId: string, secret: string, step: number, codes: string[]): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.twoFactor.update({
        // Only while still not enabled: of two concurrent confirmations, one wins.
        where: { userId, enabledAt: null },
        data: {
          secret: encrypt(this.key, secret, secretAad(userId)),
          enabledAt: new Date(),
          lastTimeStep: step,
          pendingSecret: null,
          pendingExpiresAt: null,
        },
      });
      await tx.recoveryCode.deleteMany({ where: { userId } });
      await tx.recoveryCode.createMany({ data: this.recoveryCodeRows(userId, codes) });
      await this.bumpVersionAndNotify(tx, userId, true);
    });
  }

  async disable(userId: string, currentSessionId: string, otp: string, client: ClientInfo | null = null): Promise<void> {
    if (!(await this.verifyCode(userId, otp, client))) throw new AppError('INVALID_OTP');
    await this.db.$transaction(async (tx) => {
      await tx.recoveryCode.deleteMany({ where: { userId } });
      await tx.twoFactor.delete({ where: { userId } });
      await this.bumpVersionAndNotify(tx, userId, false);
    });
    await this.afterChange(userId, currentSessionId, false);
  }

  /** The change's new credential version and the owner's notice commit with it. */
  private async bumpVersionAndNotify(tx: TransactionClient, userId: string, enabled: boolean): Promise<void> {
    const { email } = await tx.user.update({ where: { id: userId }, data: NEW_CREDENTIAL_VERSION, select: { email: true } });
    await this.outbox.enqueue(tx, {
      kind: enabled ? 'two-factor-enabled' : 'two-factor-disabled',
      ...twoFactorChangedMail(email, enabled),
    });
  }

  async regenerateRecoveryCodes(userId: string, otp: string, client: ClientInfo | null = null): Promise<string[]> {
    if (!(await this.verifyCode(userId, otp, client))) throw new AppError('INVALID_OTP');
    const codes = createRecoveryCodes(RECOVERY_CODE_COUNT);
    await this.db.$transaction([
      this.db.recoveryCode.deleteMany({ where: { userId } }),
      this.db.recoveryCode.createMany({ data: this.recoveryCodeRows(userId, codes) }),
    ]);
    return codes;
  }

  /**
   * Rehashes the recovery codes that earlier releases stored as a plain SHA-256 into the keyed
   * form (see hashRecoveryCode), at start. Each row is rewritten only if still as read, so several
   * instances starting at once do it once.
   */
  async rehashPlainRecoveryCodes(): Promise<void> {
    let rehashed = 0;
    for (;;) {
      const rows = await this.db.recoveryCode.findMany({
        where: { NOT: { codeHash: { startsWith: KEYED_RECOVERY_CODE_PREFIX } } },
        select: { id: true, userId: true, codeHash: true },
        take: 500,
      });
      if (rows.length === 0) break;
      for (const row of rows) {
        const { count } = await this.db.recoveryCode.updateMany({
          where: { id: row.id, codeHash: row.codeHash },
          data: { codeHash: rehashPlainRecoveryCode(this.recoveryKey, row.userId, row.codeHash) },
        });
        rehashed += count;
      }
    }
    if (rehashed > 0) this.logger.info({ rehashed }, 'recovery codes stored as plain SHA-256 rehashed under SECRET');
  }

  private recoveryCodeRows(userId: string, codes: string[]) {
    return codes.map((code) => ({ userId, codeHash: hashRecoveryCode(this.recoveryKey, userId, code) }));
  }

  /**
   * A TOTP code (newer than the last accepted one) or an unused recovery code; either is used up
   * by this call. False when 2FA is not enabled.
   */
  async verifyCode(userId: string, otp: string, client: ClientInfo | null = null): Promise<boolean> {
    const row = await this.db.twoFactor.findUnique({ where: { userId }, select: { secret: true, enabledAt: true, lastTimeStep: true } });
    if (!row?.enabledAt || !row.secret) return false;
    const code = otp.trim();
    if (/^\d{6}$/.test(code)) {
      const secret = decryptString(this.key, row.secret, secretAad(userId));
      const step = await verifyTotp(secret, code, row.lastTimeStep);
      if (step === null) return false;
      const claimed = await this.db.twoFactor.updateMany({
        where: { userId, OR: [{ lastTimeStep: null }, { lastTimeStep: { lt: step } }] },
        data: { lastTimeStep: step },
      });
      return claimed.count === 1;
    }
    if (code.length > 64) return false;
    // A row in the plain form of earlier releases counts too: one written by an older instance
    // still running beside this one (the rest were rehashed when this one started).
    const hashes = [hashRecoveryCode(this.recoveryKey, userId, code), plainRecoveryCodeHash(code)];
    const used = await this.db.recoveryCode.updateMany({
      where: { userId, codeHash: { in: hashes }, usedAt: null },
      data: { usedAt: new Date() },
    });
    if (used.count !== 1) return false;
    const left = await this.db.recoveryCode.count({ where: { userId, usedAt: null } });
    this.auditLog.record({
      type: 'two_factor.recovery_code_used',
      userId,
      ip: client?.ip ?? null,
      userAgent: client?.userAgent ?? null,
      details: { remaining: left },
    });
    return true;
  }

  private async afterChange(userId: string, currentSessionId: string, enabled: boolean): Promise<void> {
    await this.userRows.changed([userId]);
    this.outbox.wake();
    await this.sessions.revokeUserSessions(userId, enabled ? 'two-factor-enabled' : 'two-factor-disabled', currentSessionId);
    this.logger.info({ userId, enabled }, 'two-factor authentication changed');
  }
}

const pendingAad = (userId: string) => `totp-pending:${userId}`;
const secretAad = (userId: string) => `totp:${userId}`;
