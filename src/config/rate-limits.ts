import {
  operationEnvName,
  RATE_LIMITED_OPERATIONS,
  type RateLimitedOperation,
  SENSITIVE_OPERATIONS,
} from '../modules/rate-limits/sensitive-operations.ts';
import { parseRate, type Rate } from './rate.ts';

export type OperationRates = Record<RateLimitedOperation, { ip: Rate | null; account: Rate | null }>;

/**
 * RATE_LIMIT_<OPERATION>_IP and RATE_LIMIT_<OPERATION>_ACCOUNT for every operation in the
 * sensitive list, with its defaults; `off` turns one dimension off. The variable names follow the
 * list, so they are read here rather than spelled out in the zod schema.
 */
export function readOperationRates(env: Record<string, string | undefined>, problems: string[]): OperationRates {
  const rates = {} as OperationRates;
  for (const operation of RATE_LIMITED_OPERATIONS) {
    const defaults = SENSITIVE_OPERATIONS[operation];
    const read = (dimension: 'ip' | 'account'): Rate | null => {
      const name = operationEnvName(operation, dimension);
      const value = env[name] ?? defaults[dimension];
      const rate = parseRate(value);
      if (rate === undefined) {
        problems.push(`${name}: expected attempts per window such as 10/15m or 30/60s, or off`);
        return null;
      }
      return rate === 'off' ? null : rate;
    };
    rates[operation] = { ip: read('ip'), account: read('account') };
  }
  return rates;
}
