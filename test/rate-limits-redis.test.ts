import { createClient } from '@redis/client';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { postFrom, waitRetryAfter } from './helpers/from-ip.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Two instances on one database sharing the CI machine's Redis under a prefix of this run's own:
// limits and lockouts counted on one hold on the other.

const prefixes = [uniqueRedisPrefix('limits'), uniqueRedisPrefix('other'), uniqueRedisPrefix('guesses')];
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefixes[0]!,
    RATE_LIMIT_LOGIN_IP: '3/2s',
    LOGIN_LOCKOUT_THRESHOLD: '2',
    LOGIN_LOCKOUT_BASE: '1s',
    LOGIN_LOCKOUT_MAX: '2s',
  };
  [a, b] = await Promise.all([startTestApp(env), startTestApp(env)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  // Known-IP entries live for days: leave nothing of this run behind in the shared Redis.
  const redis = await createClient({ url: TEST_REDIS_URL }).connect();
  for (const prefix of prefixes) {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
  }
  await redis.close();
});

const login = (app: TestApp, ip: string, email: string, password: string) =>
  postFrom(`${app.url}/graphql`, ip, { query: print(LoginDocument), variables: { email, password } });

describe.concurrent('with REDIS_URL, across two instances', () => {
  it('the per-IP limit counts attempts on both', async () => {
    const ip = '127.0.0.81';
    const user = await registerUser(a);
    expect((await login(a, ip, uniqueEmail('x'), 'wrong')).code).toBe('INVALID_CREDENTIALS');
    expect((await login(b, ip, uniqueEmail('x'), 'wrong')).code).toBe('INVALID_CREDENTIALS');
    expect((await login(a, ip, uniqueEmail('x'), 'wrong')).code).toBe('INVALID_CREDENTIALS');
    const limited = await login(b, ip, user.email, TEST_PASSWORD);
    expect(limited.code).toBe('RATE_LIMITED');
    expect((await login(a, ip, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');

    await waitRetryAfter(limited);
    expect((await login(b, ip, user.email, TEST_PASSWORD)).errors).toBeUndefined();
  });

  it('a lockout reached through both holds on both, and mails the owner once', async () => {
    const user = await registerUser(a);
    expect((await login(a, '127.0.0.82', user.email, 'wrong')).code).toBe('INVALID_CREDENTIALS');
    expect((await login(b, '127.0.0.83', user.email, 'wrong')).code).toBe('INVALID_CREDENTIALS');
    const locked = await login(a, '127.0.0.84', user.email, TEST_PASSWORD);
    expect(locked.code).toBe('RATE_LIMITED');
    expect((await login(b, '127.0.0.84', user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');

    // The instance that counted the second failure sends the one mail.
    const mailsTo = () => [...a.smtp.messages, ...b.smtp.messages].filter((m) => JSON.stringify(m.to).includes(user.email));
    await b.smtp.waitForMail(user.email);
    await waitRetryAfter(locked);
    expect(mailsTo()).toHaveLength(1);
    expect((await login(a, '127.0.0.84', user.email, TEST_PASSWORD)).errors).toBeUndefined();
  });

  it('an instance with another prefix keeps its own counts', async () => {
    const other = await startTestApp({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefixes[1]!, RATE_LIMIT_LOGIN_IP: '1/2s' });
    try {
      const ip = '127.0.0.85';
      expect((await login(a, ip, uniqueEmail('x'), 'wrong')).code).toBe('INVALID_CREDENTIALS');
      expect((await login(other, ip, uniqueEmail('x'), 'wrong')).code).toBe('INVALID_CREDENTIALS');
      expect((await login(other, ip, uniqueEmail('x'), 'wrong')).code).toBe('RATE_LIMITED');
    } finally {
      await other.close();
    }
  });
});

describe('with REDIS_URL, concurrent wrong guesses on two instances', () => {
  it('get at most the threshold of password checks between them: the rest are refused as locked', async () => {
    // Production-strength argon2, so the password checks overlap as they do in production.
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefixes[2]!,
      LOGIN_LOCKOUT_THRESHOLD: '5',
      LOGIN_LOCKOUT_BASE: '1m',
      ARGON2_MEMORY_KIB: '19456',
      ARGON2_TIME_COST: '2',
    };
    const [c, d] = await Promise.all([startTestApp(env), startTestApp(env)]);
    try {
      const user = await registerUser(c);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => login(i % 2 === 0 ? c : d, '127.0.0.86', user.email, `not the password ${i}`)),
      );
      const codes = answers.map((r) => r.code).sort();
      expect(codes).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), ...Array(7).fill('RATE_LIMITED')]);
      expect((await login(d, '127.0.0.86', user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    } finally {
      await Promise.all([c.close(), d.close()]);
    }
  });
});
