import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, LogoutDocument, RequestPasswordResetDocument, ResetPasswordDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// A bearer request never reaches the database for its session: each instance keeps the sessions
// revoked within the last ACCESS_TOKEN_TTL in memory. These tests show the view is fed by every
// way a session ends, loaded at start, and shared between instances (Redis, or polling).

const viewerCode = async (app: TestApp, token: string) => {
  const res = await app.client.request(ViewerDocument, {}, { token });
  return res.code ?? (res.data?.viewer ? 'OK' : 'ANONYMOUS');
};

/** Milliseconds until `probe` returns true, or null if it did not within `timeoutMs`. */
async function timeUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}

describe('on one instance', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ REVOCATION_POLL_INTERVAL: '60s' });
  });
  afterAll(() => app.close());

  it('logout refuses that session’s access token at once, not at expiry', async () => {
    const user = await registerAndLogin(app);
    expect(await viewerCode(app, user.accessToken)).toBe('OK');
    expect((await app.client.request(LogoutDocument, { refreshToken: user.refreshToken })).data?.logout).toBe(true);
    expect(await viewerCode(app, user.accessToken)).toBe('INVALID_TOKEN');
  });

  it('leaves the user’s other sessions alone', async () => {
    const user = await registerAndLogin(app);
    const other = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD });
    await app.client.request(LogoutDocument, { refreshToken: user.refreshToken });
    expect(await viewerCode(app, other.data!.login.accessToken!)).toBe('OK');
  });

  it('a password reset refuses every earlier access token at once', async () => {
    const user = await registerAndLogin(app);
    await app.client.request(RequestPasswordResetDocument, { email: user.email });
    const mail = await app.smtp.waitForMail(user.email);
    const token = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
    expect((await app.client.request(ResetPasswordDocument, { token, password: 'a brand new passphrase 42' })).errors).toBeUndefined();
    expect(await viewerCode(app, user.accessToken)).toBe('INVALID_TOKEN');
  });

  it('revokeUserSessions (suspension) refuses every session’s access token at once and records why', async () => {
    const user = await registerAndLogin(app);
    const second = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expect(await app.services.sessions.revokeUserSessions(user.id, 'suspended')).toBe(2);
    expect(await viewerCode(app, user.accessToken)).toBe('INVALID_TOKEN');
    expect(await viewerCode(app, second.data!.login.accessToken!)).toBe('INVALID_TOKEN');
    const reasons = await app.db.session.findMany({ where: { userId: user.id }, select: { revokedReason: true } });
    expect(reasons).toEqual([{ revokedReason: 'suspended' }, { revokedReason: 'suspended' }]);
  });
});

describe('across instances sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Polling once a minute: within a second, only a Redis message can tell B.
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniqueRedisPrefix('revocation'), REVOCATION_POLL_INTERVAL: '60s' };
    [a, b] = (await Promise.all([startTestApp(env), startTestApp(env)])) as [TestApp, TestApp];
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('a logout on A is honoured by B within a second', async () => {
    const user = await registerAndLogin(a);
    expect(await viewerCode(b, user.accessToken)).toBe('OK');
    expect((await a.client.request(LogoutDocument, {}, { token: user.accessToken })).data?.logout).toBe(true);
    const elapsed = await timeUntil(async () => (await viewerCode(b, user.accessToken)) === 'INVALID_TOKEN', 1000);
    expect(elapsed).not.toBeNull();
    expect(elapsed!).toBeLessThan(1000);
  });
});

describe('across instances without Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = (await Promise.all([startTestApp(), startTestApp({ REVOCATION_POLL_INTERVAL: '1s' })])) as [TestApp, TestApp];
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('B learns of a logout on A by its next poll, and an instance started later knows it from the start', async () => {
    const user = await registerAndLogin(a);
    expect(await viewerCode(b, user.accessToken)).toBe('OK');
    await a.client.request(LogoutDocument, { refreshToken: user.refreshToken });
    const elapsed = await timeUntil(async () => (await viewerCode(b, user.accessToken)) === 'INVALID_TOKEN', 3000);
    expect(elapsed).not.toBeNull();

    const late = await startTestApp({ REVOCATION_POLL_INTERVAL: '60s' });
    try {
      expect(await viewerCode(late, user.accessToken)).toBe('INVALID_TOKEN');
    } finally {
      await late.close();
    }
  });
});
