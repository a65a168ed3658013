import type { Context } from '../../http/context.ts';
import type { RateLimitedOperation } from './sensitive-operations.ts';

/**
 * The first call of every sensitive resolver: counts this field execution against the caller's IP
 * and the targeted account, and throws RATE_LIMITED before any work is done. Aliases and batching
 * are refused at validation anyway; counting per execution keeps the limit true if they were not.
 */
export function enforceRateLimit(ctx: Context, operation: RateLimitedOperation, account: string | null): Promise<void> {
  return ctx.services.rateLimits.consume(operation, ctx.client.ip, account);
}

/** An opaque token's public id part (`<id>.<secret>`), the subject of per-token limits. */
export function tokenSubject(token: string): string {
  return (token.split('.')[0] ?? '').slice(0, 64);
}
