import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import { queryRows, statement } from '../../db/raw.ts';
import { AppError } from '../../errors.ts';
import type { AuthMode, UserStatus } from '../../generated/prisma/enums.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { LoginFailureReason } from '../audit/auth-event-types.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { LockoutService } from '../rate-limits/lockout.service.ts';
import type { ClientInfo, IssuedCredentials, SessionService } from '../sessions/session.service.ts';
import type { TwoFactorService } from '../two-factor/two-factor.service.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import { normalizeEmail } from '../users/users.validation.ts';

/** The user a login checks, with whether 2FA is on and the grants for the access token prepared during the hash. */
const FIND_LOGIN_USER = statement(
  'auth.find-login-user',
  `SELECT u."id", u."passwordHash", u."status"::text AS "status", u."credentialVersion",
     EXISTS (SELECT 1 FROM "TwoFactor" f WHERE f."userId" = u."id" AND f."enabledAt" IS NOT NULL) AS "twoFactorEnabled",
     u."roleId", ARRAY(SELECT p."policyId"::text FROM "UserPolicy" p WHERE p."userId" = u."id") AS "policyIds"
   FROM "User" u WHERE u."email" = $1`,
);

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly config: Config,
    private readonly dummyHash: string,
    private readonly lockout: LockoutService,
    private readonly twoFactor: TwoFactorService,
    private readonly userRows: UserRowCache,
    private readonly auditLog: AuditLog,
    private readonly background: BackgroundTasks,
  ) {}

  /**
   * Password login. Unknown email, wrong password and an inactive account give the same error,
   * and each costs one password verification (a dummy hash stands in for unknown emails).
   * Each attempt first reserves one of the account's password checks (see LockoutService): a
   * locked account, or one whose checks are all taken by attempts still running, is refused
   * before any of that. Every failure keeps its check spent, whether or not the account exists.
   * The verification waits for a slot at the password-hashing gate: in the priority lane when the
   * IP signed in to this account recently (known IP), else in the standard lane, where an attack
   * queues; past the gate's bounds it is SERVICE_BUSY, without hashing, whether or not the account
   * exists (and the attempt's check is given back).
   */
  async login(emailInput: string, password: string, otp: string | null, mode: AuthMode, client: ClientInfo): Promise<IssuedCredentials> {
    // What the audit log records of the attempt: the account, once found, and why it failed.
    const seen: LoginSeen = { userId: null, reason: null };
    const fail = (reason: LoginFailureReason) =>
      this.auditLog.record({
        type: 'login.failed',
        outcome: 'failure',
        userId: seen.userId,
        email: emailInput,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { reason },
      });
    let attempt: Awaited<ReturnType<LockoutService['reserveAttempt']>>;
    try {
      attempt = await this.lockout.reserveAttempt(emailInput, client.ip);
    } catch (error) {
      if (error instanceof AppError && error.code === 'RATE_LIMITED') fail('locked');
      throw error;
    }
    try {
      const credentials = await this.verifyAndCreateSession(emailInput, password, otp, mode, client, attempt.knownIp, seen);
      this.lockout.recordSuccess(emailInput, client.ip);
      this.auditLog.record({
        type: 'login.succeeded',
        userId: credentials.userId,
        sessionId: credentials.sessionId,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { mode, secondFactor: otp !== null },
      });
      return credentials;
    } catch (error) {
      if (error instanceof AppError && (error.code === 'INVALID_CREDENTIALS' || error.code === 'INVALID_OTP'))
        await this.lockout.recordFailure(attempt, emailInput, seen.userId);
      else await this.lockout.release(attempt);
      if (error instanceof AppError) fail(seen.reason ?? failureReason(error.code));
      throw error;
    }
  }

  /**
   * The login of an account whose identity an external provider has just vouched for (single
   * sign-on): the same session as a password login, under the credential version read when the
   * provider answered, so a password change, 2FA change or suspension since then refuses it. When
   * the account's own second factor is still owed, the OTP goes through the same lockout as a
   * password login's: a wrong code keeps its check spent; a missing one gives it back.
   */
  async loginWithExternalIdentity(
    user: { id: string; email: string; credentialVersion: number },
    otp: { required: boolean; code: string | null },
    mode: AuthMode,
    client: ClientInfo,
  ): Promise<IssuedCredentials> {
    if (otp.required) {
      const attempt = await this.lockout.reserveAttempt(user.email, client.ip);
      try {
        if (!otp.code) throw new AppError('OTP_REQUIRED');
        if (!(await this.twoFactor.verifyCode(user.id, otp.code))) throw new AppError('INVALID_OTP');
      } catch (error) {
        if (error instanceof AppError && error.code === 'INVALID_OTP') await this.lockout.recordFailure(attempt, user.email);
        else await this.lockout.release(attempt);
        throw error;
      }
      await this.lockout.release(attempt);
    }
    return this.sessions.createSession(user.id, mode, client, user.credentialVersion);
  }

  private async verifyAndCreateSession(
    emailInput: string,
    password: string,
    otp: string | null,
    mode: AuthMode,
    client: ClientInfo,
    knownIp: boolean,
    seen: LoginSeen,
  ): Promise<IssuedCredentials> {
    // Absurd input is refused before any work; this depends on the input alone, not the account.
    if (password.length === 0 || password.length > this.config.passwords.maxLength * 4) throw new AppError('INVALID_CREDENTIALS');
    let email: string;
    try {
      email = normalizeEmail(emailInput);
    } catch {
      email = '';
    }
    // The credential version is read before the password is checked: the session is written only
    // if no change of credentials committed in between (SessionService.writeSession). Whether 2FA
    // is on and the user's grants come with it, so that nothing but the hash stands between the
    // two round trips.
    const user = email ? await this.findLoginUser(email) : null;
    // An account without a password (created by single sign-on) verifies the dummy hash too, and
    // fails like an unknown email: nothing tells which accounts have one.
    const checking = this.hasher.check(user?.passwordHash ?? this.dummyHash, password, knownIp ? 'priority' : 'standard');
    // The hash is on its way (argon2 runs on libuv's pool): meanwhile the session that a good
    // password gets is prepared, its access token signed, so that only the session write follows
    // the check. Nothing leaves the process unless the password, status and code check out and the
    // write succeeds; the answer waits for the hash whatever the account, so this costs a wrong
    // guess nothing in time.
    const prepared =
      user?.passwordHash && user.status === 'ACTIVE'
        ? this.sessions.prepareSession(user.id, mode, client, user.twoFactorEnabled, {
            roleId: user.roleId,
            policies: user.policyIds.map((policyId) => ({ policyId })),
          })
        : null;
    const check = await checking;
    seen.userId = user?.id ?? null;
    if (!user?.passwordHash || !check.ok) throw new AppError('INVALID_CREDENTIALS');
    // Like OTP_REQUIRED, said only to someone who knows the password.
    if (user.status === 'UNVERIFIED') {
      seen.reason = 'email_not_verified';
      throw new AppError('EMAIL_NOT_VERIFIED');
    }
    if (user.status !== 'ACTIVE') {
      seen.reason = 'not_active';
      throw new AppError('INVALID_CREDENTIALS');
    }
    // Acted on only once the password is right, so it tells nothing to someone without it.
    if (user.twoFactorEnabled) {
      if (!otp) throw new AppError('OTP_REQUIRED');
      if (!(await this.twoFactor.verifyCode(user.id, otp, client))) throw new AppError('INVALID_OTP');
    }
    const credentials = await this.sessions.writeSession(
      prepared ?? this.sessions.prepareSession(user.id, mode, client, user.twoFactorEnabled),
      user.credentialVersion,
    );
    // A hash of the password as typed (before normalisation), or weaker than today's ARGON2_*
    // parameters, is replaced now that the password is known: beside the answer, not before it,
    // so that only the hash and the session write stand on a login's path.
    const checkedHash = user.passwordHash;
    if (check.rehash || this.hasher.needsUpgrade(checkedHash)) {
      this.background.run('password-rehash', () => this.rehash(user.id, checkedHash, password));
    }
    return credentials;
  }

  /** One prepared statement on the login's critical path (see db/raw.ts). */
  private async findLoginUser(email: string) {
    const [user] = await queryRows<{
      id: string;
      passwordHash: string | null;
      status: UserStatus;
      credentialVersion: number;
      twoFactorEnabled: boolean;
      roleId: string | null;
      policyIds: string[];
    }>(this.db, FIND_LOGIN_USER, [email]);
    return user ?? null;
  }

  /**
   * Replaces a hash of the password as typed (written before passwords were normalised), or one
   * weaker than today's parameters, with one of its NFKC form under today's parameters. The same
   * password, so not a new credential version; only if the hash is still the one checked, so a
   * change made meanwhile is never overwritten.
   */
  private async rehash(userId: string, checkedHash: string, password: string): Promise<void> {
    // Only if hashing is idle now: when it is busy (an attack, a burst of logins) this waits for
    // the account's next login rather than taking a slot a login could use.
    const passwordHash = await this.hasher.hashIfIdle(password);
    if (!passwordHash) return;
    const { count } = await this.db.user.updateMany({ where: { id: userId, passwordHash: checkedHash }, data: { passwordHash } });
    if (count > 0) await this.userRows.changed([userId]);
  }
}

interface LoginSeen {
  userId: string | null;
  reason: LoginFailureReason | null;
}

function failureReason(code: string): LoginFailureReason {
  switch (code) {
    case 'OTP_REQUIRED':
      return 'otp_required';
    case 'INVALID_OTP':
      return 'otp_invalid';
    case 'RATE_LIMITED':
      return 'locked';
    case 'SERVICE_BUSY':
      return 'busy';
    default:
      return 'bad_credentials';
  }
}
