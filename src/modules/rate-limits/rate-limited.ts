import { AppError } from '../../errors.ts';

/**
 * RATE_LIMITED, telling the client when to try again (whole seconds, at least 1), in the error and
 * as a Retry-After header. The status stays 200: other fields of the document may have succeeded.
 */
export function rateLimited(msBeforeNext: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', { extensions: { retryAfter, http: { headers: { 'retry-after': String(retryAfter) } } } });
}
