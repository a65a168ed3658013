import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptInviteDocument,
  ConfirmEmailChangeDocument,
  LoginDocument,
  RequestPasswordResetDocument,
  ResendVerificationEmailDocument,
  ResetPasswordDocument,
  SelfRegisterDocument,
  VerifyEmailDocument,
} from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { linkIn, mailsTo, settle, waitForNthMail } from './helpers/mail-links.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

const APP_PAGE = 'https://app.example.com/welcome?lang=en';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ USER_REGISTER_URL_ALLOW_LIST: `${APP_PAGE},https://app.example.com/email` });
});
afterAll(() => app.close());

async function register(email: string, verificationUrl?: string) {
  const res = await app.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD, verificationUrl });
  expect(res.errors).toBeUndefined();
  expect(res.data?.register).toBe(true);
}

async function verificationToken(email: string, nth = 1): Promise<{ token: string; link: URL }> {
  const mail = await waitForNthMail(app.smtp, email, nth);
  expect(mail.subject).toBe('Confirm your email address');
  const link = linkIn(mail);
  return { token: link.searchParams.get('token') as string, link };
}

describe('register', () => {
  it('register -> verification mail -> login EMAIL_NOT_VERIFIED -> verifyEmail -> login works', async () => {
    const email = uniqueEmail('reg');
    await register(email, APP_PAGE);
    // The account is written after the answer (see RegistrationService), with its mail.
    const { token, link } = await verificationToken(email);
    const user = await app.db.user.findUniqueOrThrow({ where: { email }, include: { policies: { include: { policy: true } } } });
    expect(user.status).toBe('UNVERIFIED');
    // The public policy's preset: the User policy.
    expect(user.policies.map((p) => p.policy.name)).toEqual(['User']);

    expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/welcome');
    expect(link.searchParams.get('lang')).toBe('en');
    const mail = mailsTo(app.smtp, email)[0]!;
    expect(mail.html).toContain('Confirm your email address');
    // 256-bit secret, stored only hashed.
    const [id, secret] = token.split('.') as [string, string];
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const row = await app.db.emailToken.findUniqueOrThrow({ where: { id } });
    expect(row.kind).toBe('VERIFY_EMAIL');
    expect(row.secretHash).not.toContain(secret);

    expect((await app.client.request(LoginDocument, { email, password: 'a wrong password here' })).code).toBe('INVALID_CREDENTIALS');
    expect((await app.client.request(LoginDocument, { email, password: TEST_PASSWORD })).code).toBe('EMAIL_NOT_VERIFIED');

    const verified = await app.client.request(VerifyEmailDocument, { token });
    expect(verified.errors).toBeUndefined();
    expect(verified.data?.verifyEmail).toBe(true);
    const login = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD });
    expect(login.errors).toBeUndefined();
    expect(login.data?.login.user.email).toBe(email);

    // Single use.
    expect((await app.client.request(VerifyEmailDocument, { token })).code).toBe('INVALID_TOKEN');

    // The audit log: the attempt (by the address's keyed hash only), the verification, the refused and the good login.
    await app.services.auditLog.flush();
    const events = await app.db.authEvent.findMany({
      where: { OR: [{ userId: user.id }, { type: 'user.registered' }] },
      omit: { seq: true },
    });
    expect(events.some((e) => e.type === 'user.email_verified' && e.userId === user.id)).toBe(true);
    expect(
      events.some(
        (e) =>
          e.type === 'login.failed' && e.userId === user.id && (e.details as { reason?: string } | null)?.reason === 'email_not_verified',
      ),
    ).toBe(true);
    expect(events.some((e) => e.type === 'login.succeeded' && e.userId === user.id)).toBe(true);
    const registered = events.filter((e) => e.type === 'user.registered');
    expect(registered.length).toBeGreaterThan(0);
    expect(JSON.stringify(registered)).not.toContain(email);
    expect(registered.some((e) => e.subjectHash && e.userId === null)).toBe(true);
  });

  it('a second registration of an unverified address replaces the first one: a pre-registered password never wins', async () => {
    const email = uniqueEmail('prehijack');
    const attackerPassword = 'the attacker chose this one';
    const first = await app.client.request(SelfRegisterDocument, { email, password: attackerPassword });
    expect(first.data?.register).toBe(true);
    const { token: attackerLink } = await verificationToken(email, 1);
    // The owner registers too: a new link, with their password, and the earlier one is void.
    await register(email);
    const { token: ownerLink } = await verificationToken(email, 2);
    expect((await app.client.request(VerifyEmailDocument, { token: attackerLink })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(VerifyEmailDocument, { token: ownerLink })).data?.verifyEmail).toBe(true);
    expect((await app.client.request(LoginDocument, { email, password: attackerPassword })).code).toBe('INVALID_CREDENTIALS');
    const login = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD });
    expect(login.errors).toBeUndefined();
    expect(await app.db.user.count({ where: { email } })).toBe(1);
  });

  it('a taken address answers true, creates no second account, and mails its owner a notice', async () => {
    const owner = await registerUser(app);
    const res = await app.client.request(SelfRegisterDocument, { email: owner.email.toUpperCase(), password: 'another passphrase 123' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.register).toBe(true);
    const notice = await waitForNthMail(app.smtp, owner.email, 1);
    expect(await app.db.user.count({ where: { email: owner.email } })).toBe(1);
    expect(notice.subject).toBe('Someone tried to register with your address');
    expect(notice.text).not.toMatch(/token=/);
    expect(await app.db.emailToken.count({ where: { userId: owner.id } })).toBe(0);
    // The owner's password is unchanged.
    expect((await app.client.request(LoginDocument, { email: owner.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('a new and a taken address get the same answer, and bad input the same error whatever the address', async () => {
    const taken = await registerUser(app);
    const fresh = uniqueEmail('reg');
    const answers = await Promise.all(
      [taken.email, fresh].map((email) => app.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD })),
    );
    expect(answers.map((a) => JSON.stringify({ data: a.data, errors: a.errors }))).toEqual(
      Array(2).fill(JSON.stringify({ data: { register: true } })),
    );
    const short = await Promise.all(
      [taken.email, uniqueEmail('reg')].map((email) => app.client.request(SelfRegisterDocument, { email, password: 'short' })),
    );
    expect(short.map((a) => [a.code, a.errors?.[0]?.message])).toEqual([
      ['BAD_USER_INPUT', 'password: must be at least 12 characters'],
      ['BAD_USER_INPUT', 'password: must be at least 12 characters'],
    ]);
  });

  it('refuses a verificationUrl outside USER_REGISTER_URL_ALLOW_LIST before looking the address up', async () => {
    const taken = await registerUser(app);
    const fresh = uniqueEmail('reg');
    for (const email of [taken.email, fresh]) {
      for (const url of [
        'https://evil.example/welcome?lang=en',
        'https://app.example.com/welcome',
        `${APP_PAGE}&next=https://evil.example`,
      ]) {
        const res = await app.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD, verificationUrl: url });
        expect(res.code).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.extensions?.field).toBe('verificationUrl');
      }
    }
    const resend = await app.client.request(ResendVerificationEmailDocument, { email: fresh, verificationUrl: 'https://evil.example/' });
    expect(resend.errors?.[0]?.extensions?.field).toBe('verificationUrl');
    await settle();
    expect(mailsTo(app.smtp, taken.email)).toHaveLength(0);
    expect(mailsTo(app.smtp, fresh)).toHaveLength(0);
    expect(await app.db.user.count({ where: { email: fresh } })).toBe(0);
  });

  it('resendVerificationEmail mails a new link and voids the old; it answers true for any address', async () => {
    const email = uniqueEmail('reg');
    await register(email);
    const first = await verificationToken(email, 1);
    // Without verificationUrl: the allow-list's first entry (Gatehouse's own page is not listed here).
    expect(first.link.pathname).toBe('/welcome');
    const resent = await app.client.request(ResendVerificationEmailDocument, { email });
    expect(resent.data?.resendVerificationEmail).toBe(true);
    const second = await verificationToken(email, 2);
    expect(second.token).not.toBe(first.token);
    expect((await app.client.request(VerifyEmailDocument, { token: first.token })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(VerifyEmailDocument, { token: second.token })).data?.verifyEmail).toBe(true);

    // Verified, unknown: true, and no mail.
    for (const address of [email, uniqueEmail('nobody')]) {
      expect((await app.client.request(ResendVerificationEmailDocument, { email: address })).data?.resendVerificationEmail).toBe(true);
    }
    await settle();
    expect(mailsTo(app.smtp, email)).toHaveLength(2);
  });

  it('an expired verification token is TOKEN_EXPIRED', async () => {
    const email = uniqueEmail('reg');
    await register(email);
    const { token } = await verificationToken(email);
    // The clock: the row's expiry moved to the past, as time passing would.
    await app.db.emailToken.update({ where: { id: token.split('.')[0]! }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await app.client.request(VerifyEmailDocument, { token })).code).toBe('TOKEN_EXPIRED');
    expect((await app.db.user.findUniqueOrThrow({ where: { email } })).status).toBe('UNVERIFIED');
  });

  it('tokens of one kind are refused by every other mutation, and reset tokens by these', async () => {
    const email = uniqueEmail('reg');
    await register(email);
    const { token } = await verificationToken(email);
    expect((await app.client.request(AcceptInviteDocument, { token, password: 'a brand new passphrase' })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(ConfirmEmailChangeDocument, { token })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(ResetPasswordDocument, { token, password: 'a brand new passphrase' })).code).toBe('INVALID_TOKEN');
    // Still good for what it is.
    expect((await app.client.request(VerifyEmailDocument, { token })).data?.verifyEmail).toBe(true);

    await app.client.request(RequestPasswordResetDocument, { email });
    const resetMail = await waitForNthMail(app.smtp, email, 2);
    const resetToken = linkIn(resetMail).searchParams.get('token') as string;
    expect((await app.client.request(VerifyEmailDocument, { token: resetToken })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(AcceptInviteDocument, { token: resetToken, password: 'a brand new passphrase' })).code).toBe(
      'INVALID_TOKEN',
    );
    expect((await app.client.request(ConfirmEmailChangeDocument, { token: resetToken })).code).toBe('INVALID_TOKEN');
  });

  it.each([
    'register(email: "a@example.test", password: "p")',
    'verifyEmail(token: "t")',
    'resendVerificationEmail(email: "a@example.test")',
    'inviteUser(email: "a@example.test")',
    'acceptInvite(token: "t", password: "p")',
    'requestEmailChange(newEmail: "a@example.test", password: "p")',
    'confirmEmailChange(token: "t")',
  ])('%s may appear once per document', async (field) => {
    const res = await app.client.raw({ query: `mutation { a: ${field} b: ${field} }` });
    expect(res.code).toBe('SENSITIVE_FIELD_REPEATED');
  });
});

describe('register with REGISTRATION_VERIFY_EMAIL=false', () => {
  let open: TestApp;
  beforeAll(async () => {
    open = await startTestApp({ REGISTRATION_VERIFY_EMAIL: 'false' });
  });
  afterAll(() => open.close());

  it('makes the account ACTIVE at once, without mail', async () => {
    const email = uniqueEmail('open');
    expect((await open.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD })).data?.register).toBe(true);
    // Written just after the answer.
    for (let i = 0; i < 200 && !(await open.db.user.findUnique({ where: { email } })); i++) await settle(25);
    expect((await open.db.user.findUniqueOrThrow({ where: { email } })).status).toBe('ACTIVE');
    expect((await open.client.request(LoginDocument, { email, password: TEST_PASSWORD })).errors).toBeUndefined();
    await settle();
    expect(mailsTo(open.smtp, email)).toHaveLength(0);
  });
});

describe('register rate limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({
      RATE_LIMIT_REGISTER_ACCOUNT: '2/1h',
      RATE_LIMIT_RESEND_VERIFICATION_EMAIL_ACCOUNT: '1/1h',
      RATE_LIMIT_VERIFY_EMAIL_ACCOUNT: '2/1h',
      RATE_LIMIT_CONFIRM_EMAIL_CHANGE_IP: '2/1h',
    });
  });
  afterAll(() => limited.close());

  it('limits attempts per target address, new or taken', async () => {
    const email = uniqueEmail('limit');
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) codes.push((await limited.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD })).code);
    expect(codes).toEqual([undefined, undefined, 'RATE_LIMITED']);
    const resend = [];
    for (let i = 0; i < 2; i++) resend.push((await limited.client.request(ResendVerificationEmailDocument, { email })).code);
    expect(resend).toEqual([undefined, 'RATE_LIMITED']);
  });

  it('limits token guesses per token id and per IP', async () => {
    const guess = `${randomUUID()}.${'A'.repeat(43)}`;
    const perToken = [];
    for (let i = 0; i < 3; i++) perToken.push((await limited.client.request(VerifyEmailDocument, { token: guess })).code);
    expect(perToken).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED']);
    const perIp = [];
    for (let i = 0; i < 3; i++)
      perIp.push((await limited.client.request(ConfirmEmailChangeDocument, { token: `${randomUUID()}.${'A'.repeat(43)}` })).code);
    expect(perIp).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED']);
  });
});
