import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, LogoutDocument, RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin, registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

const REFRESH_COOKIE = 'gatehouse_refresh_token';
const SESSION_COOKIE = 'gatehouse_session_token';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/**
 * What a refused refresh must leave as it was: the token unused, no successor, the session's expiry
 * (and revocation) untouched; and the token is refused again.
 */
async function expectNothingClaimed(target: TestApp, token: string, code: string) {
  const id = token.split('.')[0]!;
  const before = await target.db.sessionToken.findUniqueOrThrow({ where: { id }, include: { session: true } });
  const tokens = await target.db.sessionToken.count({ where: { sessionId: before.sessionId } });
  expect((await target.client.request(RefreshDocument, { refreshToken: token })).code).toBe(code);
  const after = await target.db.sessionToken.findUniqueOrThrow({ where: { id }, include: { session: true } });
  expect(after).toMatchObject({ usedAt: null, successorId: null });
  expect(after.session.expiresAt).toEqual(before.session.expiresAt);
  expect(after.session.revokedAt).toEqual(before.session.revokedAt);
  expect(await target.db.sessionToken.count({ where: { sessionId: after.sessionId } })).toBe(tokens);
  expect((await target.client.request(RefreshDocument, { refreshToken: token })).code).toBe(code);
}

describe('refresh (JSON mode)', () => {
  it('rotates the refresh token: the new one works; the old one, within the grace window, yields that same one', async () => {
    const user = await registerAndLogin(app);
    const first = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(first.errors).toBeUndefined();
    const next = first.data!.refresh;
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect(next.user.id).toBe(user.id);
    const viewer = await app.client.request(ViewerDocument, {}, { token: next.accessToken! });
    expect(viewer.data?.viewer?.id).toBe(user.id);
    // The rotation's timestamps are the moment it happened (read back as Prisma reads its own).
    const used = await app.db.sessionToken.findUniqueOrThrow({ where: { id: user.refreshToken.split('.')[0] } });
    expect(Math.abs((used.usedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);
    const session = await app.db.session.findUniqueOrThrow({ where: { id: used.sessionId } });
    expect(Math.abs(session.lastUsedAt.getTime() - Date.now())).toBeLessThan(10_000);
    expect(session.expiresAt.getTime() - Date.now()).toBeGreaterThan(app.config.tokens.refreshTtlSeconds * 1000 - 10_000);

    // A retried request or a second tab (REFRESH_REUSE_GRACE, 10 s by default) gets the same
    // successor, not a second one; after the window, see refresh-reuse.test.ts.
    const reused = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(reused.data?.refresh.refreshToken).toBe(next.refreshToken);
    const again = await app.client.request(RefreshDocument, { refreshToken: next.refreshToken });
    expect(again.errors).toBeUndefined();
  });

  it('gives every one of several concurrent refreshes of one token the same successor, and creates only one', async () => {
    const user = await registerAndLogin(app);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => app.client.request(RefreshDocument, { refreshToken: user.refreshToken })),
    );
    expect(results.map((r) => r.code ?? 'ok')).toEqual(Array(8).fill('ok'));
    const successors = new Set(results.map((r) => r.data?.refresh.refreshToken));
    expect(successors.size).toBe(1);
    const [id] = user.refreshToken.split('.');
    const { sessionId } = await app.db.sessionToken.findUniqueOrThrow({ where: { id: id! } });
    const live = await app.db.sessionToken.findMany({ where: { sessionId, usedAt: null }, select: { id: true } });
    expect(live.map((t) => t.id)).toEqual([[...successors][0]!.split('.')[0]]);
  });

  it.each([
    ['garbage', 'garbage'],
    ['a token of no row', '00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('refuses %s with INVALID_TOKEN', async (_label, refreshToken) => {
    const res = await app.client.request(RefreshDocument, { refreshToken });
    expect(res.code).toBe('INVALID_TOKEN');
  });

  it('refuses a real token’s id with another secret, and leaves that token unused and working', async () => {
    const user = await registerAndLogin(app);
    const [id] = user.refreshToken.split('.');
    const forged = `${id}.${'A'.repeat(43)}`;
    expect((await app.client.request(RefreshDocument, { refreshToken: forged })).code).toBe('INVALID_TOKEN');
    const row = await app.db.sessionToken.findUniqueOrThrow({ where: { id: id! } });
    expect(row).toMatchObject({ usedAt: null, successorId: null });
    expect(await app.db.sessionToken.count({ where: { sessionId: row.sessionId } })).toBe(1);
    const real = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(real.errors).toBeUndefined();
  });

  it.each([
    [
      'of a revoked session',
      (user: { id: string }) => app.db.session.updateMany({ where: { userId: user.id }, data: { revokedAt: new Date() } }),
    ],
    ['of a suspended user', (user: { id: string }) => app.db.user.update({ where: { id: user.id }, data: { status: 'SUSPENDED' } })],
  ])('refuses a token %s with INVALID_TOKEN and claims nothing', async (_label, change) => {
    const user = await registerAndLogin(app);
    await change(user);
    await expectNothingClaimed(app, user.refreshToken, 'INVALID_TOKEN');
  });

  it('refuses a refresh with no token at all', async () => {
    const res = await app.client.request(RefreshDocument, {});
    expect(res.code).toBe('INVALID_TOKEN');
  });
});

describe('logout (JSON mode)', () => {
  it('invalidates the refresh token and records the revocation', async () => {
    const user = await registerAndLogin(app);
    const res = await app.client.request(LogoutDocument, { refreshToken: user.refreshToken });
    expect(res.data?.logout).toBe(true);
    const refresh = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(refresh.code).toBe('INVALID_TOKEN');
    const sessions = await app.db.session.findMany({ where: { userId: user.id } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ revokedReason: 'logout' });
    expect(sessions[0]?.revokedAt).toBeInstanceOf(Date);
  });

  it('with only a bearer token, ends that session', async () => {
    const user = await registerAndLogin(app);
    const res = await app.client.request(LogoutDocument, {}, { token: user.accessToken });
    expect(res.data?.logout).toBe(true);
    const refresh = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(refresh.code).toBe('INVALID_TOKEN');
  });
});

describe('COOKIE mode', () => {
  it('sets the refresh token as an HttpOnly cookie, refreshes from it, and logout clears it identically', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'COOKIE' });
    expect(login.data?.login.accessToken).toBeTruthy();
    expect(login.data?.login.refreshToken).toBeNull();
    const cookie = findCookie(login, REFRESH_COOKIE)!;
    expect(cookie.value).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': String(7 * 86400) });
    expect(cookie.attributes.secure).toBeUndefined(); // PUBLIC_URL is http in tests

    const refreshed = await app.client.request(RefreshDocument, { mode: 'COOKIE' }, { cookie: `${REFRESH_COOKIE}=${cookie.value}` });
    expect(refreshed.errors).toBeUndefined();
    expect(refreshed.data?.refresh.refreshToken).toBeNull();
    const rotated = findCookie(refreshed, REFRESH_COOKIE)!;
    expect(rotated.value).not.toBe(cookie.value);

    const logout = await app.client.request(LogoutDocument, { mode: 'COOKIE' }, { cookie: `${REFRESH_COOKIE}=${rotated.value}` });
    expect(logout.data?.logout).toBe(true);
    const cleared = findCookie(logout, REFRESH_COOKIE)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': '0' });
    expect(cleared.attributes.expires).toBe('Thu, 01 Jan 1970 00:00:00 GMT');

    const after = await app.client.request(RefreshDocument, { mode: 'COOKIE' }, { cookie: `${REFRESH_COOKIE}=${rotated.value}` });
    expect(after.code).toBe('INVALID_TOKEN');
  });
});

describe('cookie tokens stay in cookies', () => {
  it.each(['JSON', 'COOKIE'] as const)(
    'refuses to refresh a session cookie in %s mode, which would hand a script a token',
    async (mode) => {
      const user = await registerUser(app);
      const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
      const cookie = `${SESSION_COOKIE}=${findCookie(login, SESSION_COOKIE)!.value}`;
      const res = await app.client.request(RefreshDocument, { mode }, { cookie });
      expect(res.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('mode');
      // The session goes on: the cookie was not used up.
      expect((await app.client.request(ViewerDocument, {}, { cookie })).data?.viewer?.id).toBe(user.id);
    },
  );
});

describe('SESSION mode', () => {
  it('authenticates by the session cookie alone until logout, then by nothing', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    expect(login.data?.login).toMatchObject({ accessToken: null, refreshToken: null, expiresIn: 86400 });
    const cookie = findCookie(login, SESSION_COOKIE)!;
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': '86400' });
    const sessionCookie = `${SESSION_COOKIE}=${cookie.value}`;

    const viewer = await app.client.request(ViewerDocument, {}, { cookie: sessionCookie });
    expect(viewer.data?.viewer?.id).toBe(user.id);

    const logout = await app.client.request(LogoutDocument, { mode: 'SESSION' }, { cookie: sessionCookie });
    expect(logout.data?.logout).toBe(true);
    const cleared = findCookie(logout, SESSION_COOKIE)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': '0' });

    const afterLogout = await app.client.request(ViewerDocument, {}, { cookie: sessionCookie });
    expect(afterLogout.code).toBe('INVALID_TOKEN');
    expect(afterLogout.data?.viewer ?? null).toBeNull();
  });

  it('rotates the session cookie on refresh; the previous cookie authenticates nothing', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const first = findCookie(login, SESSION_COOKIE)!.value;
    const refreshed = await app.client.request(RefreshDocument, { mode: 'SESSION' }, { cookie: `${SESSION_COOKIE}=${first}` });
    expect(refreshed.data?.refresh).toMatchObject({ accessToken: null, refreshToken: null });
    const second = findCookie(refreshed, SESSION_COOKIE)!.value;
    expect(second).not.toBe(first);
    expect((await app.client.request(ViewerDocument, {}, { cookie: `${SESSION_COOKIE}=${second}` })).data?.viewer?.id).toBe(user.id);
    expect((await app.client.request(ViewerDocument, {}, { cookie: `${SESSION_COOKIE}=${first}` })).code).toBe('INVALID_TOKEN');
  });
});

describe('token lifetimes', () => {
  let shortLived: TestApp;
  beforeAll(async () => {
    shortLived = await startTestApp({ REFRESH_TOKEN_TTL: '1s' });
  });
  afterAll(() => shortLived.close());

  it('reports TOKEN_EXPIRED for an expired refresh token', async () => {
    const user = await registerAndLogin(shortLived);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await expectNothingClaimed(shortLived, user.refreshToken, 'TOKEN_EXPIRED');
  });
});

describe('lifetimes beyond 2^31 seconds', () => {
  it('refreshes with a REFRESH_TOKEN_TTL and SESSION_MAX_AGE of 30000 days, the token living that long', async () => {
    const longLived = await startTestApp({ REFRESH_TOKEN_TTL: '30000d', SESSION_MAX_AGE: '30000d' });
    try {
      const user = await registerAndLogin(longLived);
      const res = await longLived.client.request(RefreshDocument, { refreshToken: user.refreshToken });
      expect(res.errors).toBeUndefined();
      const next = await longLived.db.sessionToken.findUniqueOrThrow({ where: { id: res.data!.refresh.refreshToken!.split('.')[0]! } });
      expect(Math.abs(next.expiresAt.getTime() - (Date.now() + 30_000 * 86_400_000))).toBeLessThan(60_000);
    } finally {
      await longLived.close();
    }
  });
});

describe('absolute session lifetime (SESSION_MAX_AGE, 30 days by default)', () => {
  const DAY = 86_400_000;
  const sessionIdOf = async (token: string) =>
    (await app.db.sessionToken.findUniqueOrThrow({ where: { id: token.split('.')[0] } })).sessionId;

  it('caps a refresh at the session’s age limit, then refuses it with TOKEN_EXPIRED however recently it was refreshed', async () => {
    const user = await registerAndLogin(app);
    const sessionId = await sessionIdOf(user.refreshToken);
    const createdAt = new Date(Date.now() - 30 * DAY + 3_600_000); // one hour of life left
    await app.db.session.update({ where: { id: sessionId }, data: { createdAt } });
    const capped = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(capped.errors).toBeUndefined();
    const session = await app.db.session.findUniqueOrThrow({ where: { id: sessionId } });
    expect(Math.abs(session.expiresAt.getTime() - (createdAt.getTime() + 30 * DAY))).toBeLessThan(5_000);

    await app.db.session.update({ where: { id: sessionId }, data: { createdAt: new Date(Date.now() - 30 * DAY - 1000) } });
    await expectNothingClaimed(app, capped.data!.refresh.refreshToken!, 'TOKEN_EXPIRED');
  });

  it('ends a session cookie past the age limit', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const cookie = findCookie(login, SESSION_COOKIE)!;
    const sessionCookie = `${SESSION_COOKIE}=${cookie.value}`;
    expect((await app.client.request(ViewerDocument, {}, { cookie: sessionCookie })).data?.viewer?.id).toBe(user.id);
    await app.db.session.update({ where: { id: await sessionIdOf(cookie.value) }, data: { createdAt: new Date(Date.now() - 31 * DAY) } });
    expect((await app.client.request(ViewerDocument, {}, { cookie: sessionCookie })).code).toBe('INVALID_TOKEN');
  });
});
