import { AppError } from '../../errors.ts';

/** RATE_LIMITED, telling the client when to try again (whole seconds, at least 1). */
export function rateLimited(msBeforeNext: number): AppError {
  return new AppError('RATE_LIMITED', { extensions: { retryAfter: Math.max(1, Math.ceil(msBeforeNext / 1000)) } });
}
