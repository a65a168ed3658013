import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RegisterDocument, ViewerDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('login', () => {
  it('returns both tokens in JSON mode; the access token authenticates viewer', async () => {
    const user = await registerUser(app);
    const res = await app.client.request(LoginDocument, { email: user.email.toUpperCase(), password: TEST_PASSWORD });
    expect(res.errors).toBeUndefined();
    const { accessToken, refreshToken, expiresIn } = res.data!.login;
    expect(accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(refreshToken).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(expiresIn).toBe(15 * 60);
    expect(res.setCookies).toEqual([]);

    const viewer = await app.client.request(ViewerDocument, {}, { token: accessToken! });
    expect(viewer.data?.viewer).toEqual({ id: user.id, email: user.email, status: 'ACTIVE' });

    // The refresh token is stored only as a SHA-256 of its secret.
    const [id, secret] = refreshToken!.split('.');
    const row = await app.db.sessionToken.findUnique({ where: { id: id! } });
    expect(row?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.secretHash).not.toContain(secret!);
    const session = await app.db.session.findUnique({ where: { id: row!.sessionId } });
    expect(session).toMatchObject({ userId: user.id, mode: 'JSON', revokedAt: null });
  });

  it('gives the same INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
    const user = await registerUser(app);
    const wrong = await app.client.request(LoginDocument, { email: user.email, password: 'not the password at all' });
    const unknown = await app.client.request(LoginDocument, { email: uniqueEmail('nobody'), password: 'not the password at all' });
    expect(wrong.code).toBe('INVALID_CREDENTIALS');
    expect(unknown.code).toBe('INVALID_CREDENTIALS');
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect(wrong.data).toBeNull();
  });

  it('refuses an absurdly long password without hashing it', async () => {
    const user = await registerUser(app);
    const res = await app.client.request(LoginDocument, { email: user.email, password: 'x'.repeat(60_000) });
    expect(res.code).toBe('INVALID_CREDENTIALS');
  });

  it.each(['SUSPENDED', 'ARCHIVED'] as const)('refuses a %s user', async (status) => {
    const admin = await loginAsAdmin(app);
    const email = uniqueEmail();
    await app.client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD, status } }, { token: admin });
    const res = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD });
    expect(res.code).toBe('INVALID_CREDENTIALS');
    expect(await app.db.session.count({ where: { user: { email } } })).toBe(0);
  });

  it('answers viewer with null when anonymous', async () => {
    const res = await app.client.request(ViewerDocument);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ viewer: null });
  });

  it.each([
    ['a malformed token', 'Bearer not-a-jwt'],
    ['a forged signature', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
    [
      'an unsigned token (alg none)',
      `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","sid":"y"}').toString('base64url')}.`,
    ],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
  ])('refuses %s with INVALID_TOKEN', async (_label, authorization) => {
    const res = await app.client.request(ViewerDocument, {}, { headers: { authorization } });
    expect(res.code).toBe('INVALID_TOKEN');
    expect(res.data?.viewer ?? null).toBeNull();
  });
});

describe('access token expiry', () => {
  let shortLived: TestApp;
  beforeAll(async () => {
    shortLived = await startTestApp({ ACCESS_TOKEN_TTL: '1s' });
  });
  afterAll(() => shortLived.close());

  it('reports TOKEN_EXPIRED once the access token has expired', async () => {
    const user = await registerUser(shortLived);
    const login = await shortLived.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expect(login.data?.login.expiresIn).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const res = await shortLived.client.request(ViewerDocument, {}, { token: login.data!.login.accessToken! });
    expect(res.code).toBe('TOKEN_EXPIRED');
  });
});
