import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangePasswordDocument,
  LoginDocument,
  LogoutDocument,
  LogoutEverywhereDocument,
  RefreshDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  RevokeSessionDocument,
  ViewerDocument,
  ViewerSessionsDocument,
} from './generated/graphql.ts';
import { registerAndLogin, registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

async function login(email: string, headers: Record<string, string> = {}, target = app) {
  const res = await target.client.request(LoginDocument, { email, password: TEST_PASSWORD }, { headers });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return { accessToken: res.data.login.accessToken!, refreshToken: res.data.login.refreshToken! };
}

const viewerCode = async (token: string) => {
  const res = await app.client.request(ViewerDocument, {}, { token });
  return res.code ?? (res.data?.viewer ? 'OK' : 'ANONYMOUS');
};
const sessionIdOf = async (refreshToken: string) =>
  (await app.db.sessionToken.findUniqueOrThrow({ where: { id: refreshToken.split('.')[0]! } })).sessionId;

describe('viewer.sessions', () => {
  it('lists the viewer’s own live sessions with user agent, IP and which one is current', async () => {
    const user = await registerUser(app);
    const laptop = await login(user.email, { 'user-agent': 'Laptop/1.0' });
    const phone = await login(user.email, { 'user-agent': 'Phone/2.0' });
    const ended = await login(user.email);
    await app.client.request(LogoutDocument, { refreshToken: ended.refreshToken });
    await registerAndLogin(app); // someone else's session never shows

    const res = await app.client.request(ViewerSessionsDocument, {}, { token: phone.accessToken });
    expect(res.errors).toBeUndefined();
    const sessions = res.data!.viewer!.sessions;
    expect(sessions).toHaveLength(2);
    const byAgent = Object.fromEntries(sessions.map((s) => [s.userAgent, s]));
    expect(byAgent['Phone/2.0']).toMatchObject({ id: await sessionIdOf(phone.refreshToken), current: true, ip: '127.0.0.1' });
    expect(byAgent['Laptop/1.0']).toMatchObject({ id: await sessionIdOf(laptop.refreshToken), current: false, ip: '127.0.0.1' });
    for (const s of sessions) {
      expect(new Date(String(s.expiresAt)).getTime()).toBeGreaterThan(Date.now());
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent']);
    }
  });

  it('needs a viewer', async () => {
    const res = await app.client.request(ViewerSessionsDocument);
    expect(res.data?.viewer).toBeNull();
  });
});

describe('revokeSession', () => {
  it('ends one of the viewer’s own sessions: its access token is refused at once, its refresh token too', async () => {
    const user = await registerUser(app);
    const keep = await login(user.email);
    const lost = await login(user.email);
    const res = await app.client.request(RevokeSessionDocument, { id: await sessionIdOf(lost.refreshToken) }, { token: keep.accessToken });
    expect(res.data?.revokeSession).toBe(true);
    expect(await viewerCode(lost.accessToken)).toBe('INVALID_TOKEN');
    expect((await app.client.request(RefreshDocument, { refreshToken: lost.refreshToken })).code).toBe('INVALID_TOKEN');
    expect(await viewerCode(keep.accessToken)).toBe('OK');
    const row = await app.db.session.findUniqueOrThrow({ where: { id: await sessionIdOf(lost.refreshToken) } });
    expect(row.revokedReason).toBe('revoked-by-user');
  });

  it('answers NOT_FOUND alike for another user’s session, an unknown id and garbage, and ends nothing', async () => {
    const me = await registerAndLogin(app);
    const victim = await registerAndLogin(app);
    const victimSession = await sessionIdOf(victim.refreshToken);
    const answers = await Promise.all(
      [victimSession, crypto.randomUUID(), 'not-a-session-id'].map((id) =>
        app.client.request(RevokeSessionDocument, { id }, { token: me.accessToken }),
      ),
    );
    for (const res of answers) {
      expect(res.code).toBe('NOT_FOUND');
      expect(res.errors?.[0]?.message).toBe(answers[0]!.errors?.[0]?.message);
      expect(JSON.stringify(res.errors)).not.toContain(victimSession);
    }
    expect(await viewerCode(victim.accessToken)).toBe('OK');
  });

  it('needs a viewer', async () => {
    const res = await app.client.request(RevokeSessionDocument, { id: crypto.randomUUID() });
    expect(res.code).toBe('UNAUTHENTICATED');
  });
});

describe('logout(allSessions: true)', () => {
  it('ends every session of the user, refusing all their access tokens at once', async () => {
    const user = await registerUser(app);
    const [a, b, c] = [await login(user.email), await login(user.email), await login(user.email)];
    const res = await app.client.request(LogoutEverywhereDocument, { refreshToken: a.refreshToken });
    expect(res.data?.logout).toBe(true);
    for (const s of [a, b, c]) expect(await viewerCode(s.accessToken)).toBe('INVALID_TOKEN');
    const reasons = await app.db.session.findMany({
      where: { userId: (await app.db.user.findUniqueOrThrow({ where: { email: user.email } })).id },
    });
    expect(reasons.map((r) => r.revokedReason)).toEqual(['logout-all', 'logout-all', 'logout-all']);
  });

  it('works with only a bearer token', async () => {
    const user = await registerUser(app);
    const [a, b] = [await login(user.email), await login(user.email)];
    expect((await app.client.request(LogoutEverywhereDocument, {}, { token: a.accessToken })).data?.logout).toBe(true);
    expect(await viewerCode(b.accessToken)).toBe('INVALID_TOKEN');
  });

  it('refuses a token of an ended session, which then cannot end the live ones', async () => {
    const user = await registerUser(app);
    const old = await login(user.email);
    await app.client.request(LogoutDocument, { refreshToken: old.refreshToken });
    const live = await login(user.email);
    expect((await app.client.request(LogoutEverywhereDocument, { refreshToken: old.refreshToken })).code).toBe('INVALID_TOKEN');
    expect(await viewerCode(live.accessToken)).toBe('OK');
  });
});

describe('changePassword', () => {
  it('ends every other session at once, keeps this one, voids reset links, and swaps the password', async () => {
    const user = await registerUser(app);
    const here = await login(user.email);
    const elsewhere = await login(user.email);
    await app.client.request(RequestPasswordResetDocument, { email: user.email });
    const mail = await app.smtp.waitForMail(user.email);
    const resetToken = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;

    const res = await app.client.request(
      ChangePasswordDocument,
      { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD },
      { token: here.accessToken },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.changePassword).toBe(true);

    expect(await viewerCode(here.accessToken)).toBe('OK');
    expect(await viewerCode(elsewhere.accessToken)).toBe('INVALID_TOKEN');
    expect((await app.client.request(RefreshDocument, { refreshToken: elsewhere.refreshToken })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(RefreshDocument, { refreshToken: here.refreshToken })).errors).toBeUndefined();
    expect((await app.db.session.findUniqueOrThrow({ where: { id: await sessionIdOf(elsewhere.refreshToken) } })).revokedReason).toBe(
      'password-change',
    );
    expect((await app.client.request(ResetPasswordDocument, { token: resetToken, password: 'yet another passphrase' })).code).toBe(
      'INVALID_TOKEN',
    );
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
    expect((await app.client.request(LoginDocument, { email: user.email, password: NEW_PASSWORD })).errors).toBeUndefined();
  });

  it('refuses a wrong current password or a weak new one, changing nothing', async () => {
    const user = await registerAndLogin(app);
    const wrong = await app.client.request(
      ChangePasswordDocument,
      { currentPassword: 'not the password at all', newPassword: NEW_PASSWORD },
      { token: user.accessToken },
    );
    expect(wrong.code).toBe('INVALID_CURRENT_PASSWORD');
    const weak = await app.client.request(
      ChangePasswordDocument,
      { currentPassword: TEST_PASSWORD, newPassword: 'short' },
      { token: user.accessToken },
    );
    expect(weak.code).toBe('BAD_USER_INPUT');
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('needs a viewer', async () => {
    const res = await app.client.request(ChangePasswordDocument, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.code).toBe('UNAUTHENTICATED');
  });
});

describe('client IP', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const user = await registerUser(app);
    const session = await login(user.email, { 'x-forwarded-for': '203.0.113.9' });
    expect((await app.db.session.findUniqueOrThrow({ where: { id: await sessionIdOf(session.refreshToken) } })).ip).toBe('127.0.0.1');
  });

  it('believes it through TRUST_PROXY, from the right, ignoring what the client wrote before', async () => {
    const proxied = await startTestApp({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' });
    try {
      const user = await registerUser(proxied);
      const session = await login(user.email, { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.1.2.3' }, proxied);
      const id = (await proxied.db.sessionToken.findUniqueOrThrow({ where: { id: session.refreshToken.split('.')[0]! } })).sessionId;
      expect((await proxied.db.session.findUniqueOrThrow({ where: { id } })).ip).toBe('203.0.113.9');
    } finally {
      await proxied.close();
    }
  });
});

describe('lastUsedAt', () => {
  it('moves on refresh, and on session-cookie requests at most once a minute', async () => {
    const user = await registerUser(app);
    const res = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const cookie = `gatehouse_session_token=${findCookie(res, 'gatehouse_session_token')!.value}`;
    const { sessionId } = await app.db.sessionToken.findUniqueOrThrow({
      where: { id: findCookie(res, 'gatehouse_session_token')!.value.split('.')[0]! },
    });
    const lastUsed = async () => (await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).lastUsedAt.getTime();

    const hourAgo = new Date(Date.now() - 3600_000);
    await app.db.session.update({ where: { id: sessionId }, data: { lastUsedAt: hourAgo } });
    expect((await app.client.request(ViewerDocument, {}, { cookie })).data?.viewer?.id).toBe(user.id);
    expect(await lastUsed()).toBeGreaterThan(Date.now() - 10_000);

    const halfMinuteAgo = new Date(Date.now() - 30_000);
    await app.db.session.update({ where: { id: sessionId }, data: { lastUsedAt: halfMinuteAgo } });
    await app.client.request(ViewerDocument, {}, { cookie });
    expect(await lastUsed()).toBe(halfMinuteAgo.getTime());

    await app.client.request(RefreshDocument, { mode: 'SESSION' }, { cookie });
    expect(await lastUsed()).toBeGreaterThan(Date.now() - 10_000);
  });
});
