import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log/logger.ts';
import { loginLockedMail } from '../../mail/mail.templates.ts';
import type { MailTransport } from '../../mail/mail.transport.ts';
import type { KnownIps } from './known-ips.ts';
import type { LimiterStore } from './limiter-store.ts';
import { rateLimited } from './rate-limited.ts';
import { accountSubject } from './subject-key.ts';

/** How long a run of lockouts is remembered, so the next one is longer (reset by a good login). */
const LEVEL_MEMORY_SECONDS = 24 * 3600;

/**
 * Failed-login throttling per account: after LOGIN_LOCKOUT_THRESHOLD failures the account is
 * locked for LOGIN_LOCKOUT_BASE, each further lockout doubling it up to LOGIN_LOCKOUT_MAX. Keyed
 * by the normalised email, so unknown and existing accounts behave alike; only the notification
 * mail depends on the account existing, and it is sent in the background.
 *
 * Bounded on purpose: the cap limits how long one lockout lasts, a successful login clears
 * everything, and an IP that has signed in to the account before counts on its own (KnownIps),
 * so an attacker's lockout does not reach the owner's usual places.
 */
export class LockoutService {
  private readonly failures: RateLimiterAbstract;
  private readonly levels: RateLimiterAbstract;
  private readonly locks: RateLimiterAbstract;
  private readonly settings: Config['rateLimits']['lockout'];

  constructor(
    store: LimiterStore,
    private readonly knownIps: KnownIps,
    private readonly db: Database,
    private readonly mail: MailTransport,
    private readonly background: BackgroundTasks,
    config: Config,
    private readonly logger: Logger,
  ) {
    this.settings = config.rateLimits.lockout;
    this.failures = store.limiter('lockout:failures', this.settings.threshold, this.settings.windowSeconds);
    this.levels = store.limiter('lockout:level', Number.MAX_SAFE_INTEGER, LEVEL_MEMORY_SECONDS);
    this.locks = store.limiter('lockout:lock', 1, this.settings.maxSeconds);
  }

  /** The subject this attempt counts against: the account, or the account from a known IP. */
  subjectFor(email: string, ip: string | null): Promise<string> {
    return this.knownIps.subject('lockout', accountSubject(email), ip);
  }

  /** Throws RATE_LIMITED while the subject is locked; called before any password work. */
  async assertNotLocked(subject: string): Promise<void> {
    const lock = await this.locks.get(subject);
    if (lock && lock.consumedPoints > 1) throw rateLimited(lock.msBeforeNext);
  }

  /**
   * Counts a failed login. The failure that reaches the threshold (counted atomically, so exactly
   * one, on whichever instance) locks the subject and starts the notification mail.
   */
  async recordFailure(subject: string, email: string): Promise<void> {
    let count: number;
    try {
      count = (await this.failures.consume(subject)).consumedPoints;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      count = rejection.consumedPoints;
    }
    if (count !== this.settings.threshold) return;
    await this.failures.delete(subject);
    const level = ((await this.levels.get(subject))?.consumedPoints ?? 0) + 1;
    await this.levels.set(subject, level, LEVEL_MEMORY_SECONDS);
    const seconds = Math.min(this.settings.baseSeconds * 2 ** Math.min(level - 1, 30), this.settings.maxSeconds);
    await this.locks.block(subject, seconds);
    this.background.run('login-lockout-mail', () => this.notify(email, seconds));
  }

  /** A good password ends every lockout of the account and remembers the IP as the owner's. */
  async recordSuccess(email: string, ip: string | null): Promise<void> {
    const account = accountSubject(email);
    await this.clear([this.knownIps.accountSubject('lockout', account), this.knownIps.pairSubject('lockout', account, ip)]);
    await this.knownIps.remember(account, ip);
  }

  /** A password reset proves the mailbox: the owner may sign in with the new password at once. */
  async clearAccount(email: string): Promise<void> {
    await this.clear([this.knownIps.accountSubject('lockout', accountSubject(email))]);
  }

  private async clear(subjects: string[]): Promise<void> {
    await Promise.all(subjects.flatMap((s) => [this.failures.delete(s), this.levels.delete(s), this.locks.delete(s)]));
  }

  private async notify(email: string, seconds: number): Promise<void> {
    const user = await this.db.user.findUnique({ where: { email: accountSubject(email) }, select: { id: true, email: true } });
    if (!user) return;
    await this.mail.send(loginLockedMail(user.email, seconds));
    this.logger.info({ userId: user.id, lockedSeconds: seconds }, 'login locked after failed attempts; owner notified');
  }
}
