import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { OperationRates } from '../../config/rate-limits.ts';
import type { KnownIps } from './known-ips.ts';
import type { LimiterStore } from './limiter-store.ts';
import { rateLimited } from './rate-limited.ts';
import { RATE_LIMITED_OPERATIONS, type RateLimitedOperation, SENSITIVE_OPERATIONS } from './sensitive-operations.ts';
import { accountSubject, ipSubject } from './subject-key.ts';

interface OperationLimiters {
  ip: RateLimiterAbstract | null;
  account: RateLimiterAbstract | null;
}

/**
 * Per-IP and per-account attempt counters for the sensitive operations. One attempt is one field
 * execution: resolvers call consume() before doing anything else.
 */
export class RateLimitService {
  private readonly limiters = new Map<RateLimitedOperation, OperationLimiters>();

  constructor(
    store: LimiterStore,
    rates: OperationRates,
    private readonly hash: (...parts: string[]) => string,
    private readonly knownIps: KnownIps,
  ) {
    for (const operation of RATE_LIMITED_OPERATIONS) {
      const { ip, account } = rates[operation];
      this.limiters.set(operation, {
        ip: ip && store.limiter(`${operation}:ip`, ip.points, ip.durationSeconds),
        account: account && store.limiter(`${operation}:account`, account.points, account.durationSeconds),
      });
    }
  }

  /**
   * Counts one attempt at `operation` from `ip` aimed at `account` (null when there is none to
   * name), and throws RATE_LIMITED when either budget is spent. The IP is counted first and, once
   * it is over its limit, the account is not counted at all: a blocked client cannot go on
   * spending its target's budget.
   */
  async consume(operation: RateLimitedOperation, ip: string | null, account: string | null): Promise<void> {
    const limiters = this.limiters.get(operation);
    if (!limiters) return;
    if (limiters.ip) await take(limiters.ip, this.hash(operation, 'ip', ipSubject(ip)));
    if (limiters.account && account !== null) {
      const subject = accountSubject(account);
      const splitKnownIps = (SENSITIVE_OPERATIONS[operation] as { splitKnownIps?: boolean }).splitKnownIps === true;
      const key = splitKnownIps ? (await this.knownIps.subject(operation, subject, ip)).subject : this.hash(operation, 'account', subject);
      await take(limiters.account, key);
    }
  }
}

async function take(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    // The library rejects with a RateLimiterRes when the budget is spent, with an Error otherwise.
    if (rejection instanceof RateLimiterRes) throw rateLimited(rejection.msBeforeNext);
    throw rejection;
  }
}
