import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log/logger.ts';
import { loginLockedMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { KnownIps } from './known-ips.ts';
import type { LimiterStore } from './limiter-store.ts';
import { rateLimited } from './rate-limited.ts';
import { accountSubject } from './subject-key.ts';

/** How long a run of lockouts is remembered, so the next one is longer (reset by a good login). */
const LEVEL_MEMORY_SECONDS = 24 * 3600;

/** A password check reserved for one login attempt (see LockoutService.reserveAttempt). */
export interface LoginAttempt {
  subject: string;
  /** Its place among the subject's checks in this window: 1 for the first. */
  slot: number;
  /** The IP signed in to the account recently (KnownIps): its attempts count on their own. */
  knownIp: boolean;
}

/**
 * Failed-login throttling per account: LOGIN_LOCKOUT_THRESHOLD password checks per window, and
 * the failure that spends the last one locks the account for LOGIN_LOCKOUT_BASE, each further
 * lockout doubling it up to LOGIN_LOCKOUT_MAX. Keyed by the normalised email, so unknown and
 * existing accounts behave alike; only the notification mail depends on the account existing, and
 * it is sent in the background.
 *
 * An attempt takes its check from the counter (atomically, in memory or Redis) before the
 * password is verified, and a failure keeps it spent: concurrent guesses get no more checks than
 * sequential ones. The lock is the same counter held full for the lockout's duration.
 *
 * Bounded on purpose: the cap limits how long one lockout lasts, a successful login clears
 * everything, and an IP that has signed in to the account before counts on its own (KnownIps),
 * so an attacker's lockout does not reach the owner's usual places.
 */
export class LockoutService {
  private readonly checks: RateLimiterAbstract;
  private readonly levels: RateLimiterAbstract;
  private readonly settings: Config['rateLimits']['lockout'];

  constructor(
    store: LimiterStore,
    private readonly knownIps: KnownIps,
    private readonly db: Database,
    private readonly outbox: MailOutbox,
    private readonly background: BackgroundTasks,
    config: Config,
    private readonly logger: Logger,
    private readonly auditLog: AuditLog,
  ) {
    this.settings = config.rateLimits.lockout;
    this.checks = store.limiter('lockout:failures', this.settings.threshold, this.settings.windowSeconds);
    this.levels = store.limiter('lockout:level', Number.MAX_SAFE_INTEGER, LEVEL_MEMORY_SECONDS);
  }

  /**
   * Takes one password check for an attempt on `email` from `ip` (counted against the account, or
   * the account from a known IP). Throws RATE_LIMITED, before any password work, when the account
   * is locked or its checks are spent, including by attempts still running.
   */
  async reserveAttempt(email: string, ip: string | null): Promise<LoginAttempt> {
    const { subject, known } = await this.knownIps.subject('lockout', accountSubject(email), ip);
    try {
      return { subject, knownIp: known, slot: (await this.checks.consume(subject)).consumedPoints };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // Locked: until the lock ends. Spent by attempts still running: at most until the lockout
      // they are about to start would end.
      const level = (await this.levels.get(subject))?.consumedPoints ?? 0;
      throw rateLimited(Math.min(rejection.msBeforeNext, this.lockSeconds(level + 1) * 1000));
    }
  }

  /**
   * A failed attempt keeps its check spent. The one that held the last check (exactly one, on
   * whichever instance) locks the subject and starts the notification mail.
   */
  async recordFailure(attempt: LoginAttempt, email: string, userId: string | null = null): Promise<void> {
    if (attempt.slot !== this.settings.threshold) return;
    const level = ((await this.levels.get(attempt.subject))?.consumedPoints ?? 0) + 1;
    await this.levels.set(attempt.subject, level, LEVEL_MEMORY_SECONDS);
    const seconds = this.lockSeconds(level);
    // Held full with room to spare: attempts still running that give their check back (release)
    // cannot bring it under the threshold before the lock ends.
    await this.checks.set(attempt.subject, 2 * this.settings.threshold, seconds);
    this.auditLog.record({
      type: 'lockout.triggered',
      outcome: 'failure',
      userId,
      email,
      details: { lockedSeconds: seconds, level, knownIp: attempt.knownIp },
    });
    this.background.run('login-lockout-mail', () => this.notify(email, seconds));
  }

  /** An attempt that ended in neither success nor a wrong guess (say OTP_REQUIRED) gives its check back. */
  async release(attempt: LoginAttempt): Promise<void> {
    await this.checks.reward(attempt.subject, 1);
  }

  /**
   * A good password ends every lockout of the account and remembers the IP as the owner's. Nothing
   * in it changes the login's answer, so the answer does not wait for it: it runs as a background
   * task (awaited at shutdown, a failure logged), and every command is issued here, before the
   * answer leaves, so the next attempt's commands reach the store after them (Redis serves one
   * connection's commands in order; the memory store at once).
   */
  recordSuccess(email: string, ip: string | null): void {
    const account = accountSubject(email);
    const subjects = [this.knownIps.accountSubject('lockout', account), this.knownIps.pairSubject('lockout', account, ip)];
    this.background.run('login-success-bookkeeping', async () => {
      await Promise.all([this.clear(subjects), this.knownIps.remember(account, ip)]);
    });
  }

  /** A password reset proves the mailbox: the owner may sign in with the new password at once. */
  async clearAccount(email: string): Promise<void> {
    await this.clear([this.knownIps.accountSubject('lockout', accountSubject(email))]);
  }

  private async clear(subjects: string[]): Promise<void> {
    await Promise.all(subjects.flatMap((s) => [this.checks.delete(s), this.levels.delete(s)]));
  }

  private lockSeconds(level: number): number {
    return Math.min(this.settings.baseSeconds * 2 ** Math.min(level - 1, 30), this.settings.maxSeconds);
  }

  private async notify(email: string, seconds: number): Promise<void> {
    const user = await this.db.user.findUnique({ where: { email: accountSubject(email) }, select: { id: true, email: true } });
    if (!user) return;
    // The lock lives in the limiter store, not the database: the mail is the only row to write.
    await this.outbox.enqueue(this.db, { kind: 'login-locked', ...loginLockedMail(user.email, seconds) });
    this.outbox.wake();
    this.logger.info({ userId: user.id, lockedSeconds: seconds }, 'login locked after failed attempts; owner notification queued');
  }
}
