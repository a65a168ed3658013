import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterStore } from './limiter-store.ts';
import { ipSubject } from './subject-key.ts';

/**
 * IPs that signed in to an account successfully in the last LOGIN_KNOWN_IP_TTL. Attempts from
 * such an IP are counted (and locked out) separately from everyone else's attempts on the account,
 * so an attacker who exhausts an account's budget or locks it cannot keep its owner out from the
 * places the owner usually signs in from. Keys are hashed like every limiter key.
 */
export class KnownIps {
  private readonly store: RateLimiterAbstract;

  constructor(
    limiters: LimiterStore,
    private readonly ttlSeconds: number,
    private readonly hash: (...parts: string[]) => string,
  ) {
    this.store = limiters.limiter('known-ip', 1, ttlSeconds);
  }

  async remember(account: string, ip: string | null): Promise<void> {
    await this.store.set(this.key(account, ip), 1, this.ttlSeconds);
  }

  /** The subject that attempts on `account` from `ip` count against, and whether the IP is known to it. */
  async subject(scope: string, account: string, ip: string | null): Promise<{ subject: string; known: boolean }> {
    const known = (await this.store.get(this.key(account, ip))) !== null;
    return { subject: known ? this.pairSubject(scope, account, ip) : this.accountSubject(scope, account), known };
  }

  /** Attempts from addresses that have not signed in to the account recently. */
  accountSubject(scope: string, account: string): string {
    return this.hash(scope, account);
  }

  /** Attempts from one address that has. */
  pairSubject(scope: string, account: string, ip: string | null): string {
    return this.hash(scope, account, ipSubject(ip));
  }

  private key(account: string, ip: string | null): string {
    return this.hash('known-ip', account, ipSubject(ip));
  }
}
