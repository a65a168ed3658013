import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoginDocument,
  RefreshDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  UpdateUserDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

const RESET_PAGE = 'https://app.example.com/reset';
/** An allow-list entry with a query of its own. */
const FRENCH_PAGE = 'https://app.example.com/fr/reset?lang=fr';
const NEW_PASSWORD = 'a brand new passphrase 42';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    PASSWORD_RESET_URL_ALLOW_LIST: `${RESET_PAGE},https://admin.example.com:8443/account/reset,${FRENCH_PAGE}`,
  });
});
afterAll(() => app.close());

async function requestResetToken(email: string, resetUrl: string | undefined = RESET_PAGE): Promise<{ token: string; link: URL }> {
  const res = await app.client.request(RequestPasswordResetDocument, { email, resetUrl });
  expect(res.data?.requestPasswordReset).toBe(true);
  const mail = await app.smtp.waitForMail(email);
  const href = /https?:\/\/\S+/.exec(mail.text ?? '')?.[0];
  const link = new URL(href!);
  return { token: link.searchParams.get('token')!, link };
}

describe('password reset', () => {
  it('mails a link to the reset page; the token sets a new password and ends every session', async () => {
    const user = await registerAndLogin(app);
    const { token, link } = await requestResetToken(user.email);
    expect(`${link.origin}${link.pathname}`).toBe(RESET_PAGE);
    const mail = app.smtp.messages.find((m) => m.text?.includes(token))!;
    expect(mail.subject).toBe('Reset your password');
    expect(mail.html).toContain('Reset your password');

    // The token is stored only as a hash.
    const row = await app.db.passwordResetToken.findUnique({ where: { id: token.split('.')[0]! } });
    expect(row?.secretHash).not.toContain(token.split('.')[1]!);

    const reset = await app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD });
    expect(reset.errors).toBeUndefined();
    expect(reset.data?.resetPassword).toBe(true);

    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
    expect((await app.client.request(LoginDocument, { email: user.email, password: NEW_PASSWORD })).errors).toBeUndefined();
    // Sessions from before the reset are over.
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).code).toBe('INVALID_TOKEN');
    const revoked = await app.db.session.findMany({ where: { userId: user.id, revokedReason: 'password-reset' } });
    expect(revoked).toHaveLength(1);
  });

  it('accepts a token once only', async () => {
    const user = await registerUser(app);
    const { token } = await requestResetToken(user.email);
    expect((await app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD })).data?.resetPassword).toBe(true);
    const again = await app.client.request(ResetPasswordDocument, { token, password: 'yet another passphrase' });
    expect(again.code).toBe('INVALID_TOKEN');
  });

  it('voids every other outstanding token once the password changes', async () => {
    const user = await registerUser(app);
    const first = await requestResetToken(user.email);
    app.smtp.messages.length = 0;
    const second = await requestResetToken(user.email);
    expect(second.token).not.toBe(first.token);
    expect((await app.client.request(ResetPasswordDocument, { token: second.token, password: NEW_PASSWORD })).data?.resetPassword).toBe(
      true,
    );
    expect((await app.client.request(ResetPasswordDocument, { token: first.token, password: 'yet another passphrase' })).code).toBe(
      'INVALID_TOKEN',
    );
  });

  it('voids a link mailed to the old address once the email changes', async () => {
    const user = await registerUser(app);
    const { token } = await requestResetToken(user.email);
    const admin = await loginAsAdmin(app);
    const moved = uniqueEmail('moved');
    const update = await app.client.request(UpdateUserDocument, { id: user.id, input: { email: moved } }, { token: admin });
    expect(update.errors).toBeUndefined();

    expect((await app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(LoginDocument, { email: moved, password: TEST_PASSWORD })).errors).toBeUndefined();
    expect((await app.client.request(LoginDocument, { email: moved, password: NEW_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
  });

  it('answers true for an unknown email and sends nothing', async () => {
    const email = uniqueEmail('ghost');
    const res = await app.client.request(RequestPasswordResetDocument, { email, resetUrl: RESET_PAGE });
    expect(res.data?.requestPasswordReset).toBe(true);
    await expect(app.smtp.waitForMail(email, 500)).rejects.toThrow(/no mail/);
  });

  it('refuses a weak new password before using the token', async () => {
    const user = await registerUser(app);
    const { token } = await requestResetToken(user.email);
    const res = await app.client.request(ResetPasswordDocument, { token, password: 'short' });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect((await app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD })).data?.resetPassword).toBe(true);
  });

  it('accepts a listed URL with another port and path exactly', async () => {
    const user = await registerUser(app);
    const { link } = await requestResetToken(user.email, 'https://admin.example.com:8443/account/reset');
    expect(link.host).toBe('admin.example.com:8443');
  });

  it("keeps an allow-list entry's own query in the link, and only that", async () => {
    const user = await registerUser(app);
    const { link } = await requestResetToken(user.email, FRENCH_PAGE);
    expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/fr/reset');
    expect([...link.searchParams.keys()]).toEqual(['lang', 'token']);
    expect(link.searchParams.get('lang')).toBe('fr');
  });

  it.each([
    'https://app.example.com/reset?next=https://evil.example/',
    'https://app.example.com/reset?token=x',
    'https://app.example.com/fr/reset?lang=fr&next=https://evil.example/',
    'https://app.example.com/fr/reset?lang=de',
    'https://app.example.com/fr/reset',
  ])("refuses resetUrl %s, whose query is not its allow-list entry's, and mails nothing", async (resetUrl) => {
    const user = await registerUser(app);
    const res = await app.client.request(RequestPasswordResetDocument, { email: user.email, resetUrl });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('resetUrl');
    await expect(app.smtp.waitForMail(user.email, 300)).rejects.toThrow(/no mail/);
  });

  it.each([
    'https://app.example.com.evil.com/reset',
    'https://evil.com/reset',
    'https://app.example.com/reset/../evil',
    'https://app.example.com/resetx',
    'https://app.example.com/reset/more',
    'https://user@app.example.com/reset',
    'https://app.example.com@evil.com/reset',
    'http://app.example.com/reset',
    'https://app.example.com:444/reset',
    '//evil.com/reset',
    'javascript:alert(1)',
    'https://app.example.com/reset#frag',
  ])('refuses resetUrl %s with BAD_USER_INPUT, known email or not', async (resetUrl) => {
    const user = await registerUser(app);
    const known = await app.client.request(RequestPasswordResetDocument, { email: user.email, resetUrl });
    const unknown = await app.client.request(RequestPasswordResetDocument, { email: uniqueEmail('ghost'), resetUrl });
    expect(known.code).toBe('BAD_USER_INPUT');
    expect(unknown.code).toBe('BAD_USER_INPUT');
    expect(known.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    await expect(app.smtp.waitForMail(user.email, 300)).rejects.toThrow(/no mail/);
  });

  it('reports TOKEN_EXPIRED for an expired token and INVALID_TOKEN for garbage', async () => {
    const shortLived = await startTestApp({ PASSWORD_RESET_TTL: '1s', PASSWORD_RESET_URL_ALLOW_LIST: RESET_PAGE });
    try {
      const user = await registerUser(shortLived);
      await shortLived.client.request(RequestPasswordResetDocument, { email: user.email, resetUrl: RESET_PAGE });
      const mail = await shortLived.smtp.waitForMail(user.email);
      const token = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await shortLived.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD })).code).toBe('TOKEN_EXPIRED');
      expect((await shortLived.client.request(ResetPasswordDocument, { token: 'garbage', password: NEW_PASSWORD })).code).toBe(
        'INVALID_TOKEN',
      );
    } finally {
      await shortLived.close();
    }
  });
});
