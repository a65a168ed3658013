import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfirmEmailChangeDocument,
  LoginDocument,
  RefreshDocument,
  RequestEmailChangeDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  VerifyEmailDocument,
} from './generated/graphql.ts';
import { registerAndLogin, registerUser } from './helpers/factories.ts';
import { linkIn, mailsTo, settle, waitForNthMail } from './helpers/mail-links.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

async function login(email: string) {
  const res = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD });
  expect(res.errors).toBeUndefined();
  return { accessToken: res.data!.login.accessToken!, refreshToken: res.data!.login.refreshToken! };
}

async function requestChange(accessToken: string, newEmail: string, password = TEST_PASSWORD, verificationUrl?: string) {
  return app.client.request(RequestEmailChangeDocument, { newEmail, password, verificationUrl }, { token: accessToken });
}

async function changeToken(newEmail: string, nth = 1): Promise<{ token: string; link: URL }> {
  const mail = await waitForNthMail(app.smtp, newEmail, nth);
  expect(mail.subject).toBe('Confirm your new email address');
  const link = linkIn(mail);
  return { token: link.searchParams.get('token') as string, link };
}

describe('email change', () => {
  it('confirmation on the new address, notice on the old; confirming switches the address, kills old reset links and other sessions', async () => {
    const user = await registerAndLogin(app);
    const other = await login(user.email);
    await app.client.request(RequestPasswordResetDocument, { email: user.email });
    const resetToken = linkIn(await waitForNthMail(app.smtp, user.email, 1)).searchParams.get('token') as string;

    const newEmail = uniqueEmail('new');
    expect((await requestChange(user.accessToken, newEmail, 'not my password at all')).code).toBe('INVALID_CURRENT_PASSWORD');
    const res = await requestChange(user.accessToken, newEmail.toUpperCase());
    expect(res.errors).toBeUndefined();
    expect(res.data?.requestEmailChange).toBe(true);

    const { token, link } = await changeToken(newEmail);
    expect(`${link.origin}${link.pathname}`).toBe(`${app.config.publicUrl}/confirm-email`);
    const notice = await waitForNthMail(app.smtp, user.email, 2);
    expect(notice.subject).toBe('A change of your email address was requested');
    expect(notice.text).toContain(newEmail);
    expect(notice.text).not.toMatch(/token=/);
    // Nothing changes before the confirmation.
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).email).toBe(user.email);

    const confirmed = await app.client.request(ConfirmEmailChangeDocument, { token });
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data?.confirmEmailChange).toBe(true);
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).email).toBe(newEmail);
    expect((await app.client.request(LoginDocument, { email: newEmail, password: TEST_PASSWORD })).errors).toBeUndefined();
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).code).toBe('INVALID_CREDENTIALS');

    // The reset link mailed to the old address is dead.
    expect((await app.client.request(ResetPasswordDocument, { token: resetToken, password: 'a brand new passphrase' })).code).toBe(
      'INVALID_TOKEN',
    );
    // The session that asked stays; the other one ended.
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).errors).toBeUndefined();
    expect((await app.client.request(RefreshDocument, { refreshToken: other.refreshToken })).code).toBe('INVALID_TOKEN');
    expect(await app.db.session.count({ where: { userId: user.id, revokedReason: 'email-change' } })).toBe(1);

    // Single use.
    expect((await app.client.request(ConfirmEmailChangeDocument, { token })).code).toBe('INVALID_TOKEN');
  });

  it('an address taken by another account meanwhile ends in EMAIL_TAKEN, and nothing changes', async () => {
    const user = await registerAndLogin(app);
    const newEmail = uniqueEmail('race');
    expect((await requestChange(user.accessToken, newEmail)).data?.requestEmailChange).toBe(true);
    const { token } = await changeToken(newEmail);
    await registerUser(app, newEmail);
    expect((await app.client.request(ConfirmEmailChangeDocument, { token })).code).toBe('EMAIL_TAKEN');
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).email).toBe(user.email);
    expect(await app.db.user.count({ where: { email: newEmail } })).toBe(1);
  });

  it('only the newest request counts; a password change voids a pending one; an expired link is TOKEN_EXPIRED', async () => {
    const user = await registerAndLogin(app);
    const first = uniqueEmail('one');
    const second = uniqueEmail('two');
    await requestChange(user.accessToken, first);
    const firstToken = (await changeToken(first)).token;
    await requestChange(user.accessToken, second);
    const secondToken = (await changeToken(second)).token;
    expect((await app.client.request(ConfirmEmailChangeDocument, { token: firstToken })).code).toBe('INVALID_TOKEN');

    await app.db.emailToken.update({ where: { id: secondToken.split('.')[0]! }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await app.client.request(ConfirmEmailChangeDocument, { token: secondToken })).code).toBe('TOKEN_EXPIRED');

    const third = uniqueEmail('three');
    await requestChange(user.accessToken, third);
    const thirdToken = (await changeToken(third)).token;
    await app.client.request(RequestPasswordResetDocument, { email: user.email });
    const resetMail = await waitForNthMail(app.smtp, user.email, 4);
    const resetToken = linkIn(resetMail).searchParams.get('token') as string;
    expect(
      (await app.client.request(ResetPasswordDocument, { token: resetToken, password: 'a brand new passphrase' })).errors,
    ).toBeUndefined();
    expect((await app.client.request(ConfirmEmailChangeDocument, { token: thirdToken })).code).toBe('INVALID_TOKEN');
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).email).toBe(user.email);
  });

  it('needs a signed-in user, a URL on the allow-list (checked first), and a different valid address; its token is no other kind', async () => {
    const anonymous = await app.client.request(RequestEmailChangeDocument, { newEmail: uniqueEmail('x'), password: TEST_PASSWORD });
    expect(anonymous.code).toBe('UNAUTHENTICATED');
    const user = await registerAndLogin(app);
    const newEmail = uniqueEmail('new');
    const badUrl = await requestChange(user.accessToken, newEmail, 'a wrong password too', 'https://evil.example/confirm');
    expect(badUrl.code).toBe('BAD_USER_INPUT');
    expect(badUrl.errors?.[0]?.extensions?.field).toBe('verificationUrl');
    const same = await requestChange(user.accessToken, user.email);
    expect(same.errors?.[0]?.extensions?.field).toBe('newEmail');
    const invalid = await requestChange(user.accessToken, 'not an address');
    expect(invalid.errors?.[0]?.extensions?.field).toBe('newEmail');
    await settle();
    expect(mailsTo(app.smtp, newEmail)).toHaveLength(0);

    await requestChange(user.accessToken, newEmail);
    const { token } = await changeToken(newEmail);
    expect((await app.client.request(VerifyEmailDocument, { token })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(ResetPasswordDocument, { token, password: 'a brand new passphrase' })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(ConfirmEmailChangeDocument, { token })).data?.confirmEmailChange).toBe(true);
  });
});
