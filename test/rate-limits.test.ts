import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangePasswordDocument,
  LoginDocument,
  RefreshDocument,
  RegisterDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { postFrom, type RawResponse, sleep, waitRetryAfter } from './helpers/from-ip.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Each limit gets a small budget and a 1-2 s window, so a test can spend it, see RATE_LIMITED
// with a retryAfter, wait that out and see the operation work again. Clients are told apart by
// their socket address (127.0.0.x), which is what the server goes by without trusted proxies.
// Tests in a block use distinct addresses and accounts, so they run concurrently.

const NEW_PASSWORD = 'a brand new passphrase 42';

function send<TData, TVariables>(
  app: TestApp,
  ip: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<RawResponse<TData>> {
  return postFrom<TData>(`${app.url}/graphql`, ip, { query: print(document), variables }, headers);
}

function expectRateLimited(res: RawResponse<unknown>, maxSeconds: number) {
  expect(res.code).toBe('RATE_LIMITED');
  expect(res.data).toBeNull();
  const retryAfter = res.errors?.[0]?.extensions?.retryAfter;
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(res.errors?.[0]?.message).toBe('Too many attempts. Try again later.');
  expect(res.headers['retry-after']).toBe(String(retryAfter));
  expect(JSON.stringify(res.errors)).not.toContain('http');
}

describe.concurrent('login', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_LOGIN_IP: '3/2s', RATE_LIMIT_LOGIN_ACCOUNT: '2/2s', LOGIN_LOCKOUT_THRESHOLD: '100' });
  });
  afterAll(() => app.close());

  it('is limited per IP: the next attempt, even with the right password, does no work until the window ends', async () => {
    const ip = '127.0.0.11';
    const user = await registerUser(app);
    for (let i = 0; i < 3; i++) {
      const res = await send(app, ip, LoginDocument, { email: uniqueEmail('guess'), password: 'wrong password' });
      expect(res.code).toBe('INVALID_CREDENTIALS');
    }
    const limited = await send(app, ip, LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expectRateLimited(limited, 2);
    expect(await app.db.session.count({ where: { userId: user.id } })).toBe(0);

    // Another client is unaffected.
    expect((await send(app, '127.0.0.12', LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();

    await waitRetryAfter(limited);
    const again = await send(app, ip, LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expect(again.errors).toBeUndefined();
    expect(again.data?.login.user.id).toBe(user.id);
  });

  it('is limited per account, whatever the spelling of the email and whichever IP asks', async () => {
    const user = await registerUser(app);
    expect((await send(app, '127.0.0.13', LoginDocument, { email: user.email, password: 'wrong' })).code).toBe('INVALID_CREDENTIALS');
    const shouted = { email: ` ${user.email.toUpperCase()} `, password: 'wrong' };
    expect((await send(app, '127.0.0.14', LoginDocument, shouted)).code).toBe('INVALID_CREDENTIALS');
    const limited = await send(app, '127.0.0.15', LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expectRateLimited(limited, 2);
    expect(await app.db.session.count({ where: { userId: user.id } })).toBe(0);

    await waitRetryAfter(limited);
    expect((await send(app, '127.0.0.15', LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('goes by the socket address: X-Forwarded-For from an untrusted peer does not escape the IP limit', async () => {
    const ip = '127.0.0.16';
    const spoofed = (n: number) => ({
      'x-forwarded-for': `198.51.100.${n}`,
      'x-real-ip': `198.51.100.${n}`,
      forwarded: `for=198.51.100.${n}`,
    });
    for (let i = 0; i < 3; i++) {
      const res = await send(app, ip, LoginDocument, { email: uniqueEmail('spoof'), password: 'wrong' }, spoofed(i));
      expect(res.code).toBe('INVALID_CREDENTIALS');
    }
    const limited = await send(app, ip, LoginDocument, { email: uniqueEmail('spoof'), password: 'wrong' }, spoofed(99));
    expectRateLimited(limited, 2);
  });
});

describe.concurrent('createUser', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_CREATE_USER_IP: '2/2s', RATE_LIMIT_CREATE_USER_ACCOUNT: '1/2s' });
  });
  afterAll(() => app.close());

  it('is limited per IP and writes no row when limited', async () => {
    const ip = '127.0.0.21';
    for (let i = 0; i < 2; i++) {
      const res = await send(app, ip, RegisterDocument, { input: { email: uniqueEmail('signup'), password: TEST_PASSWORD } });
      expect(res.errors).toBeUndefined();
    }
    const email = uniqueEmail('signup');
    const limited = await send(app, ip, RegisterDocument, { input: { email, password: TEST_PASSWORD } });
    expectRateLimited(limited, 2);
    expect(await app.db.user.count({ where: { email } })).toBe(0);

    await waitRetryAfter(limited);
    expect((await send(app, ip, RegisterDocument, { input: { email, password: TEST_PASSWORD } })).errors).toBeUndefined();
    expect(await app.db.user.count({ where: { email } })).toBe(1);
  });

  it('is limited per email address', async () => {
    const email = uniqueEmail('taken');
    expect((await send(app, '127.0.0.22', RegisterDocument, { input: { email, password: 'short' } })).code).toBe('BAD_USER_INPUT');
    const limited = await send(app, '127.0.0.23', RegisterDocument, { input: { email: email.toUpperCase(), password: TEST_PASSWORD } });
    expectRateLimited(limited, 2);
    expect(await app.db.user.count({ where: { email } })).toBe(0);
  });

  it('does not limit an administrator creating accounts', async () => {
    const admin = await loginAsAdmin(app);
    for (let i = 0; i < 4; i++) {
      const res = await app.client.request(
        RegisterDocument,
        { input: { email: uniqueEmail('staff'), password: TEST_PASSWORD } },
        { token: admin },
      );
      expect(res.errors).toBeUndefined();
    }
  });
});

describe.concurrent('password reset', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      RATE_LIMIT_REQUEST_PASSWORD_RESET_IP: '3/2s',
      RATE_LIMIT_REQUEST_PASSWORD_RESET_ACCOUNT: '1/2s',
      RATE_LIMIT_RESET_PASSWORD_IP: '3/2s',
      RATE_LIMIT_RESET_PASSWORD_ACCOUNT: '1/2s',
    });
  });
  afterAll(() => app.close());

  async function requestToken(email: string, ip: string): Promise<string> {
    const res = await send(app, ip, RequestPasswordResetDocument, { email });
    expect(res.data?.requestPasswordReset).toBe(true);
    const mail = await app.smtp.waitForMail(email);
    return new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
  }

  async function waitForMails(email: string, count: number) {
    for (let i = 0; i < 100 && mailsTo(email) < count; i++) await sleep(50);
    expect(mailsTo(email)).toBe(count);
  }
  const mailsTo = (email: string) => app.smtp.messages.filter((m) => JSON.stringify(m.to).includes(email)).length;

  it('requestPasswordReset is limited per account: the limited request sends no mail and writes no token', async () => {
    const user = await registerUser(app);
    await requestToken(user.email, '127.0.0.31');
    const limited = await send(app, '127.0.0.32', RequestPasswordResetDocument, { email: user.email });
    expectRateLimited(limited, 2);

    await waitRetryAfter(limited);
    expect((await send(app, '127.0.0.32', RequestPasswordResetDocument, { email: user.email })).data?.requestPasswordReset).toBe(true);
    await waitForMails(user.email, 2);
    // Two requests got through, so two tokens and two mails, not three.
    expect(await app.db.passwordResetToken.count({ where: { userId: user.id } })).toBe(2);
  });

  it('requestPasswordReset is limited per IP, for unknown addresses too', async () => {
    const ip = '127.0.0.33';
    for (let i = 0; i < 3; i++) {
      expect((await send(app, ip, RequestPasswordResetDocument, { email: uniqueEmail('nobody') })).data?.requestPasswordReset).toBe(true);
    }
    expectRateLimited(await send(app, ip, RequestPasswordResetDocument, { email: uniqueEmail('nobody') }), 2);
  });

  it('resetPassword is limited per token: a limited attempt neither uses the token nor changes the password', async () => {
    const user = await registerUser(app);
    const token = await requestToken(user.email, '127.0.0.34');
    expect((await send(app, '127.0.0.35', ResetPasswordDocument, { token, password: 'short' })).code).toBe('BAD_USER_INPUT');
    const limited = await send(app, '127.0.0.36', ResetPasswordDocument, { token, password: NEW_PASSWORD });
    expectRateLimited(limited, 2);
    const row = await app.db.passwordResetToken.findUnique({ where: { id: token.split('.')[0]! } });
    expect(row?.usedAt).toBeNull();
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();

    await waitRetryAfter(limited);
    expect((await send(app, '127.0.0.36', ResetPasswordDocument, { token, password: NEW_PASSWORD })).data?.resetPassword).toBe(true);
  });

  it('resetPassword is limited per IP across tokens', async () => {
    const ip = '127.0.0.37';
    for (let i = 0; i < 3; i++) {
      const guess = `${crypto.randomUUID()}.${'A'.repeat(43)}`;
      expect((await send(app, ip, ResetPasswordDocument, { token: guess, password: NEW_PASSWORD })).code).toBe('INVALID_TOKEN');
    }
    expectRateLimited(await send(app, ip, ResetPasswordDocument, { token: `${crypto.randomUUID()}.x`, password: NEW_PASSWORD }), 2);
  });
});

describe('refresh', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_REFRESH_IP: '2/2s' });
  });
  afterAll(() => app.close());

  it('is limited per IP; the limited call does not rotate the token, which works after the window', async () => {
    const ip = '127.0.0.41';
    const user = await registerAndLogin(app);
    for (let i = 0; i < 2; i++) {
      const guess = `${crypto.randomUUID()}.${'A'.repeat(43)}`;
      expect((await send(app, ip, RefreshDocument, { refreshToken: guess })).code).toBe('INVALID_TOKEN');
    }
    const limited = await send(app, ip, RefreshDocument, { refreshToken: user.refreshToken });
    expectRateLimited(limited, 2);

    await waitRetryAfter(limited);
    const rotated = await send(app, ip, RefreshDocument, { refreshToken: user.refreshToken });
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data?.refresh.user.id).toBe(user.id);
  });
});

describe.concurrent('behind a trusted proxy (TRUST_PROXY)', () => {
  const PROXY = '127.0.0.71';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: PROXY, RATE_LIMIT_LOGIN_IP: '2/2s', LOGIN_LOCKOUT_THRESHOLD: '100' });
  });
  afterAll(() => app.close());

  const attempt = (peer: string, forwardedFor: string) =>
    send(app, peer, LoginDocument, { email: uniqueEmail('proxied'), password: 'wrong' }, { 'x-forwarded-for': forwardedFor });

  it('counts the client the proxy names, each on its own', async () => {
    for (let i = 0; i < 2; i++) expect((await attempt(PROXY, '198.51.100.1')).code).toBe('INVALID_CREDENTIALS');
    expectRateLimited(await attempt(PROXY, '198.51.100.1'), 2);
    expect((await attempt(PROXY, '198.51.100.2')).code).toBe('INVALID_CREDENTIALS');
  });

  it('ignores what the client wrote to the left of the proxy’s entry', async () => {
    for (let i = 0; i < 2; i++) expect((await attempt(PROXY, `203.0.113.${i}, 198.51.100.3`)).code).toBe('INVALID_CREDENTIALS');
    expectRateLimited(await attempt(PROXY, '203.0.113.99, 198.51.100.3'), 2);
  });

  it('ignores X-Forwarded-For from a peer that is not the proxy', async () => {
    const peer = '127.0.0.72';
    for (let i = 0; i < 2; i++) expect((await attempt(peer, `198.51.100.${10 + i}`)).code).toBe('INVALID_CREDENTIALS');
    expectRateLimited(await attempt(peer, '198.51.100.99'), 2);
  });
});

describe('changePassword', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_CHANGE_PASSWORD_ACCOUNT: '2/2s' });
  });
  afterAll(() => app.close());

  it('is limited per signed-in user, so a stolen session cannot guess the password', async () => {
    const user = await registerAndLogin(app);
    const change = (currentPassword: string, ip: string) =>
      send(
        app,
        ip,
        ChangePasswordDocument,
        { currentPassword, newPassword: NEW_PASSWORD },
        { authorization: `Bearer ${user.accessToken}` },
      );
    expect((await change('guess one', '127.0.0.91')).code).toBe('INVALID_CURRENT_PASSWORD');
    expect((await change('guess two', '127.0.0.92')).code).toBe('INVALID_CURRENT_PASSWORD');
    const limited = await change(TEST_PASSWORD, '127.0.0.93');
    expectRateLimited(limited, 2);
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();

    await waitRetryAfter(limited);
    expect((await change(TEST_PASSWORD, '127.0.0.93')).errors).toBeUndefined();
  });
});
