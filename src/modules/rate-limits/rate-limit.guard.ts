import { AppError } from '../../errors.ts';
import type { Context } from '../../http/context.ts';
import { recordEvent } from '../audit/record.ts';
import type { RateLimitedOperation } from './sensitive-operations.ts';

/**
 * The first call of every sensitive resolver: counts this field execution against the caller's IP
 * and the targeted account, and throws RATE_LIMITED before any work is done. Aliases and batching
 * are refused at validation anyway; counting per execution keeps the limit true if they were not.
 */
export async function enforceRateLimit(ctx: Context, operation: RateLimitedOperation, account: string | null): Promise<void> {
  try {
    await ctx.services.rateLimits.consume(operation, ctx.client.ip, account);
  } catch (error) {
    if (error instanceof AppError && error.code === 'RATE_LIMITED') {
      // The account is not recorded: for some operations it is a token id or a typed address.
      recordEvent(ctx, {
        type: 'rate_limit.triggered',
        outcome: 'failure',
        userId: ctx.viewer?.userId ?? null,
        actorId: null,
        details: { operation },
      });
      if (operation === 'login') ctx.services.metrics.loginFailures.inc({ reason: 'rate_limited' });
    }
    throw error;
  }
}

/** An opaque token's public id part (`<id>.<secret>`), the subject of per-token limits. */
export function tokenSubject(token: string): string {
  return (token.split('.')[0] ?? '').slice(0, 64);
}
