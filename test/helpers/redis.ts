import { randomUUID } from 'node:crypto';

/** Redis runs on every developer machine and in CI; TEST_REDIS_URL points elsewhere. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A channel prefix no other test run (or test) shares, so parallel runs never hear each other. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `gatehouse-test:${label}:${process.pid}:${randomUUID()}`;
}
