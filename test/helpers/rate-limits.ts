import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../../src/modules/rate-limits/sensitive-operations.ts';

/**
 * Every per-operation rate limit set out of reach. Suites that are not about limits register and
 * log in dozens of users from 127.0.0.1 on one server; the production defaults (say 10 sign-ups
 * per IP per hour) would trip them. Tests about limits set their own small limits explicitly.
 */
export const RELAXED_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((operation) => [
    [operationEnvName(operation, 'ip'), '100000/1s'],
    [operationEnvName(operation, 'account'), '100000/1s'],
  ]),
);
