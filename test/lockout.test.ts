import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RequestPasswordResetDocument, ResetPasswordDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { postFrom, sleep, waitRetryAfter } from './helpers/from-ip.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Lockouts with a threshold of 2 failures, 1 s for the first lock and a 2 s cap. Clients are
// told apart by socket address (127.0.0.x). Tests use their own accounts and addresses.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ LOGIN_LOCKOUT_THRESHOLD: '2', LOGIN_LOCKOUT_BASE: '1s', LOGIN_LOCKOUT_MAX: '2s' });
});
afterAll(() => app.close());

const NEW_PASSWORD = 'a brand new passphrase 42';

const login = (ip: string, email: string, password: string) =>
  postFrom<{ login: { user: { id: string } } }>(`${app.url}/graphql`, ip, { query: print(LoginDocument), variables: { email, password } });

const mailsTo = (email: string) => app.smtp.messages.filter((m) => JSON.stringify(m.to).includes(email));

async function failTwice(ip: string, email: string) {
  for (let i = 0; i < 2; i++) expect((await login(ip, email, 'not the password')).code).toBe('INVALID_CREDENTIALS');
}

describe.concurrent('failed-login lockout', () => {
  it('locks an account after the threshold, refuses even the right password, mails the owner once, and ends', async () => {
    const user = await registerUser(app);
    await failTwice('127.0.0.51', user.email);
    const locked = await login('127.0.0.51', user.email, TEST_PASSWORD);
    expect(locked.code).toBe('RATE_LIMITED');
    expect(locked.errors?.[0]?.extensions?.retryAfter).toBe(1);
    // From any address that has not signed in to the account before.
    expect((await login('127.0.0.52', user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    expect(await app.db.session.count({ where: { userId: user.id } })).toBe(0);

    const mail = await app.smtp.waitForMail(user.email);
    expect(mail.subject).toBe('Sign-in to your account was paused');
    expect(mail.text).toContain('paused for 1 second');
    expect(mail.text).not.toMatch(/127\.0\.0/);

    await waitRetryAfter(locked);
    const ok = await login('127.0.0.51', user.email, TEST_PASSWORD);
    expect(ok.errors).toBeUndefined();
    expect(mailsTo(user.email)).toHaveLength(1);
  });

  it('treats an unknown email exactly like an account, and mails nobody', async () => {
    const user = await registerUser(app);
    const nobody = uniqueEmail('nobody');
    await Promise.all([failTwice('127.0.0.53', user.email), failTwice('127.0.0.54', nobody)]);
    const [known, unknown] = await Promise.all([
      login('127.0.0.53', user.email, TEST_PASSWORD),
      login('127.0.0.54', nobody, TEST_PASSWORD),
    ]);
    expect(unknown.code).toBe(known.code);
    expect(unknown.errors?.[0]?.message).toBe(known.errors?.[0]?.message);
    expect(unknown.errors?.[0]?.extensions).toEqual(known.errors?.[0]?.extensions);
    // The owner's mail arrives; by then the unknown address's lockout has sent nothing.
    await app.smtp.waitForMail(user.email);
    expect(mailsTo(nobody)).toHaveLength(0);
  });

  it('doubles each further lockout up to the cap, and a successful login starts over', async () => {
    const user = await registerUser(app);
    const ip = '127.0.0.55';
    const retryAfters: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      await failTwice(ip, user.email);
      const locked = await login(ip, user.email, TEST_PASSWORD);
      expect(locked.code).toBe('RATE_LIMITED');
      retryAfters.push(locked.errors?.[0]?.extensions?.retryAfter);
      await waitRetryAfter(locked);
    }
    expect(retryAfters).toEqual([1, 2, 2]);

    expect((await login(ip, user.email, TEST_PASSWORD)).errors).toBeUndefined();
    await failTwice('127.0.0.56', user.email);
    expect((await login('127.0.0.56', user.email, TEST_PASSWORD)).errors?.[0]?.extensions?.retryAfter).toBe(1);

    // One mail per lockout: four lockouts, four mails.
    for (let i = 0; i < 100 && mailsTo(user.email).length < 4; i++) await sleep(50);
    expect(mailsTo(user.email)).toHaveLength(4);
  });

  it('does not lock the owner out from an address they signed in from before', async () => {
    const user = await registerUser(app);
    const owner = '127.0.0.57';
    expect((await login(owner, user.email, TEST_PASSWORD)).errors).toBeUndefined();

    await failTwice('127.0.0.58', user.email);
    expect((await login('127.0.0.59', user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    expect((await login(owner, user.email, TEST_PASSWORD)).errors).toBeUndefined();

    // The owner's address has a budget of its own, not a free pass.
    await failTwice(owner, user.email);
    expect((await login(owner, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
  });
});

describe('a password reset', () => {
  it('ends the lockout, so the owner can sign in with the new password at once', async () => {
    const user = await registerUser(app);
    const ip = '127.0.0.65';
    await failTwice(ip, user.email);
    expect((await login(ip, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');

    await app.client.request(RequestPasswordResetDocument, { email: user.email });
    // The lockout notice came first; the reset mail is the one with a link.
    for (let i = 0; i < 100 && !mailsTo(user.email).some((m) => m.subject === 'Reset your password'); i++) await sleep(50);
    const mail = mailsTo(user.email).find((m) => m.subject === 'Reset your password')!;
    const token = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
    expect((await app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD })).data?.resetPassword).toBe(true);
    expect((await login(ip, user.email, NEW_PASSWORD)).errors).toBeUndefined();
  });
});

describe('the per-account rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ RATE_LIMIT_LOGIN_ACCOUNT: '2/2s', LOGIN_LOCKOUT_THRESHOLD: '100' });
  });
  afterAll(() => limited.close());

  it('cannot be spent by an attacker on behalf of an owner who signed in from that address before', async () => {
    const send = (ip: string, password: string, email: string) =>
      postFrom(`${limited.url}/graphql`, ip, { query: print(LoginDocument), variables: { email, password } });
    const user = await registerUser(limited);
    expect((await send('127.0.0.61', TEST_PASSWORD, user.email)).errors).toBeUndefined();
    expect((await send('127.0.0.62', 'wrong', user.email)).code).toBe('INVALID_CREDENTIALS');
    expect((await send('127.0.0.62', 'wrong', user.email)).code).toBe('RATE_LIMITED');
    expect((await send('127.0.0.63', TEST_PASSWORD, user.email)).code).toBe('RATE_LIMITED');
    expect((await send('127.0.0.61', TEST_PASSWORD, user.email)).errors).toBeUndefined();
  });
});

describe('concurrent wrong guesses', () => {
  let strict: TestApp;
  beforeAll(async () => {
    // Production-strength argon2: password checks take long enough to overlap, as they do in production.
    strict = await startTestApp({
      LOGIN_LOCKOUT_THRESHOLD: '5',
      LOGIN_LOCKOUT_BASE: '1m',
      LOGIN_LOCKOUT_MAX: '15m',
      ARGON2_MEMORY_KIB: '19456',
      ARGON2_TIME_COST: '2',
    });
  });
  afterAll(() => strict.close());

  it('get at most the threshold of password checks: the rest are refused as locked', async () => {
    const user = await registerUser(strict);
    const guess = (password: string) =>
      postFrom(`${strict.url}/graphql`, '127.0.0.66', { query: print(LoginDocument), variables: { email: user.email, password } });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => guess(`not the password ${i}`)));
    const codes = answers.map((a) => a.code).sort();
    expect(codes).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), ...Array(7).fill('RATE_LIMITED')]);
    // Refused guesses say when the lock ends, which is no later than the lock itself.
    for (const a of answers.filter((a) => a.code === 'RATE_LIMITED')) {
      expect(a.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
      expect(a.errors?.[0]?.extensions?.retryAfter).toBeLessThanOrEqual(60);
    }
    // Locked: the right password is refused too, and the owner hears of one lockout.
    expect((await guess(TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    await strict.smtp.waitForMail(user.email);
    expect(strict.smtp.messages.filter((m) => JSON.stringify(m.to).includes(user.email))).toHaveLength(1);
  });
});
