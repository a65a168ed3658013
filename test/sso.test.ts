import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthProvidersDocument,
  ChangePasswordDocument,
  ConfirmLinkIdentityDocument,
  ExchangeLoginCodeDocument,
  LinkIdentityDocument,
  LoginDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  UnlinkIdentityDocument,
  UpdateUserDocument,
  ViewerDocument,
  ViewerIdentitiesDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerUser } from './helpers/factories.ts';
import { freePort } from './helpers/free-port.ts';
import { waitForNthMail } from './helpers/mail-links.ts';
import { TestBrowser } from './helpers/sso-browser.ts';
import { CLIENT_ID, CLIENT_SECRET, startOAuthProvider, startOidcProvider, type TestProvider } from './helpers/sso-providers.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

const APP = 'http://app.test/sso/done';

let app: TestApp;
let oidc: TestProvider;
let oauth: TestProvider;
let base: string;
const logs: string[] = [];

beforeAll(async () => {
  const [port, oidcPort, oauthPort] = await Promise.all([freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${port}`;
  const downPort = await freePort(); // nothing listens there: a provider that is down
  oidc = await startOidcProvider(
    oidcPort,
    ['corp', 'closed', 'strong'].map((name) => `${base}/auth/login/${name}/callback`),
  );
  oauth = await startOAuthProvider(oauthPort, `${base}/auth/login/hub/callback`);
  const openid = (name: string) => ({
    [`AUTH_${name}_DRIVER`]: 'openid',
    [`AUTH_${name}_ISSUER_URL`]: oidc.url,
    [`AUTH_${name}_CLIENT_ID`]: CLIENT_ID,
    [`AUTH_${name}_CLIENT_SECRET`]: CLIENT_SECRET,
    [`AUTH_${name}_REDIRECT_ALLOW_LIST`]: `${APP},http://app.test/other`,
  });
  app = await startTestApp(
    {
      PORT: String(port),
      AUTH_PROVIDERS: 'corp,closed,hub,strong,down',
      AUTH_DOWN_DRIVER: 'openid',
      AUTH_DOWN_ISSUER_URL: `http://127.0.0.1:${downPort}`,
      AUTH_DOWN_CLIENT_ID: CLIENT_ID,
      AUTH_DOWN_REDIRECT_ALLOW_LIST: APP,
      ...openid('STRONG'),
      AUTH_STRONG_ALLOW_PUBLIC_REGISTRATION: 'true',
      AUTH_STRONG_MFA_AMR: 'mfa,hwk',
      ...openid('CORP'),
      AUTH_CORP_ALLOW_PUBLIC_REGISTRATION: 'true',
      AUTH_CORP_TRUST_EMAIL: 'true',
      AUTH_CORP_LABEL: 'Corporate SSO',
      ...openid('CLOSED'),
      AUTH_HUB_DRIVER: 'oauth2',
      AUTH_HUB_AUTHORIZE_URL: `${oauth.url}/authorize`,
      AUTH_HUB_TOKEN_URL: `${oauth.url}/token`,
      AUTH_HUB_PROFILE_URL: `${oauth.url}/user`,
      AUTH_HUB_CLIENT_ID: CLIENT_ID,
      AUTH_HUB_CLIENT_SECRET: CLIENT_SECRET,
      AUTH_HUB_ALLOW_PUBLIC_REGISTRATION: 'true',
      AUTH_HUB_REDIRECT_ALLOW_LIST: APP,
      LOG_LEVEL: 'debug',
    },
    { logDestination: { write: (line: string) => void logs.push(line) } },
  );
}, 120_000);

afterAll(async () => {
  await app?.close();
  await oidc?.close();
  await oauth?.close();
});

/** A fresh login at the providers, with an address. */
function account(provider: TestProvider, options: { verified?: boolean; email?: string } = {}) {
  const login = `u${Math.random().toString(36).slice(2, 12)}`;
  const email = options.email ?? uniqueEmail('sso');
  provider.accounts.set(login, { email, emailVerified: options.verified ?? true });
  return { login, email };
}

function startUrl(provider: string, params: Record<string, string> = {}): string {
  const url = new URL(`${base}/auth/login/${provider}`);
  url.searchParams.set('redirect', APP);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

/** Signs in through the provider in a fresh browser; the app URL reached. */
async function signIn(provider: string, login: string, params: Record<string, string> = {}, browser = new TestBrowser(APP)) {
  const { appUrl, response } = await browser.navigate(startUrl(provider, params), login);
  if (!appUrl) throw new Error(`did not reach the app: ${response?.status} ${await response?.text()}`);
  return { appUrl, browser };
}

async function exchange(code: string, mode: 'JSON' | 'COOKIE' | 'SESSION' = 'JSON', otp?: string) {
  return app.client.request(ExchangeLoginCodeDocument, { code, mode, otp });
}

describe('single sign-on with OpenID Connect', () => {
  it('lists the providers publicly, with their login URLs', async () => {
    const res = await app.client.request(AuthProvidersDocument);
    expect(res.data?.authProviders).toEqual([
      { name: 'corp', label: 'Corporate SSO', driver: 'OPENID', loginUrl: `${base}/auth/login/corp` },
      { name: 'closed', label: 'Closed', driver: 'OPENID', loginUrl: `${base}/auth/login/closed` },
      { name: 'hub', label: 'Hub', driver: 'OAUTH2', loginUrl: `${base}/auth/login/hub` },
      { name: 'strong', label: 'Strong', driver: 'OPENID', loginUrl: `${base}/auth/login/strong` },
      { name: 'down', label: 'Down', driver: 'OPENID', loginUrl: `${base}/auth/login/down` },
    ]);
  });

  it('creates an account without a password when public registration is on; the JSON code works once', async () => {
    const { login, email } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    expect(appUrl.origin + appUrl.pathname).toBe(APP);
    const code = appUrl.searchParams.get('code') as string;
    expect(code).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(appUrl.searchParams.get('otp_required')).toBeNull();
    // No token in the URL, ever.
    expect([...appUrl.searchParams.keys()]).toEqual(['code']);

    const first = await exchange(code);
    expect(first.errors).toBeUndefined();
    expect(first.data?.exchangeLoginCode.user.email).toBe(email);
    const viewer = await app.client.request(ViewerIdentitiesDocument, {}, { token: first.data?.exchangeLoginCode.accessToken as string });
    expect(viewer.data?.viewer?.identities).toEqual([{ provider: 'corp', email, lastUsedAt: expect.any(String) }]);

    expect((await exchange(code)).code).toBe('INVALID_TOKEN');
    const user = await app.db.user.findUniqueOrThrow({ where: { email }, include: { identities: true } });
    expect(user.passwordHash).toBeNull();
    expect(user.identities).toMatchObject([{ provider: 'corp', subject: login }]);
    // The login code is kept only as a hash.
    const row = await app.db.loginCode.findUniqueOrThrow({ where: { id: code.split('.')[0] } });
    expect(row.secretHash).not.toContain(code.split('.')[1]);
    expect(row.usedAt).not.toBeNull();
  });

  it('refuses password login to an account created by SSO with the normal INVALID_CREDENTIALS', async () => {
    const { login, email } = account(oidc);
    await signIn('corp', login);
    const res = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD, mode: 'JSON' });
    expect(res.code).toBe('INVALID_CREDENTIALS');
  });

  it('creates no account when the provider does not allow public registration', async () => {
    const { login, email } = account(oidc);
    const { appUrl } = await signIn('closed', login);
    expect(appUrl.searchParams.get('error')).toBe('SSO_REGISTRATION_CLOSED');
    expect(appUrl.searchParams.get('code')).toBeNull();
    expect(await app.db.user.findUnique({ where: { email } })).toBeNull();
  });

  it('reaches an existing account by a verified email at a trusted provider, not by an unverified one', async () => {
    const owner = await registerUser(app);
    // An account whose owner never proved the address (a public createUser) is not linked by email:
    // whoever created it first would otherwise share it with the address's owner.
    const proven = account(oidc, { email: owner.email, verified: true });
    expect((await signIn('corp', proven.login)).appUrl.searchParams.get('error')).toBe('EMAIL_TAKEN');
    expect(await app.db.identity.count({ where: { userId: owner.id } })).toBe(0);
    // The owner proves the address (a password reset through its mail does).
    await app.client.request(RequestPasswordResetDocument, { email: owner.email });
    const resetMail = await app.smtp.waitForMail(owner.email);
    const reset = new URL(/https?:\/\/\S+/.exec(resetMail.text ?? '')?.[0] as string).searchParams.get('token') as string;
    expect((await app.client.request(ResetPasswordDocument, { token: reset, password: TEST_PASSWORD })).errors).toBeUndefined();

    const unverified = account(oidc, { email: owner.email, verified: false });
    const refused = await signIn('corp', unverified.login);
    expect(refused.appUrl.searchParams.get('error')).toBe('EMAIL_TAKEN');
    expect(await app.db.identity.count({ where: { userId: owner.id } })).toBe(0);

    // The same verified address at a provider not trusted for it: refused too.
    const verified = proven;
    expect((await signIn('closed', verified.login)).appUrl.searchParams.get('error')).toBe('EMAIL_TAKEN');

    const linked = await signIn('corp', verified.login);
    const res = await exchange(linked.appUrl.searchParams.get('code') as string);
    expect(res.data?.exchangeLoginCode.user.id).toBe(owner.id);
    expect(await app.db.identity.count({ where: { userId: owner.id, provider: 'corp', subject: verified.login } })).toBe(1);
    expect(await waitForNthMail(app.smtp, owner.email, 2).then((m) => m.subject)).toBe('Corporate SSO sign-in linked to your account');
  });

  it('sets the cookies of COOKIE and SESSION modes as password login does', async () => {
    const { login, email } = account(oidc);
    const cookieMode = await signIn('corp', login, { mode: 'COOKIE' });
    expect([...cookieMode.appUrl.searchParams.keys()]).toEqual([]);
    const refresh = cookieMode.browser.cookie(app.config.cookies.refreshName);
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    const sessionMode = await signIn('corp', login, { mode: 'SESSION' });
    const session = sessionMode.browser.cookie(app.config.cookies.sessionName);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const viewer = await app.client.request(ViewerDocument, {}, { cookie: `${session?.name}=${session?.value}` });
    expect(viewer.data?.viewer?.email).toBe(email);
    // The state cookie is gone once the callback has answered.
    expect(sessionMode.browser.cookie('gatehouse_sso_state')).toBeUndefined();
  });

  it('holds the state in a short-lived, HttpOnly, sealed cookie under the provider path', async () => {
    const browser = new TestBrowser(APP);
    const res = await browser.fetch(startUrl('corp'));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') as string);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('state')).toMatch(/.{20,}/);
    expect(location.searchParams.get('nonce')).toMatch(/.{20,}/);
    const state = browser.cookie('gatehouse_sso_state');
    expect(state).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/auth/login/corp', maxAge: 600 });
    // Sealed: neither the state nor the PKCE verifier can be read from it.
    expect(state?.value).not.toContain(location.searchParams.get('state'));
  });

  it('refuses a foreign redirect without following it', async () => {
    const browser = new TestBrowser(APP);
    for (const redirect of ['https://evil.example/steal', `${APP}/deeper`, `${APP}?next=https://evil.example`, 'javascript:alert(1)']) {
      const res = await browser.fetch(`${base}/auth/login/corp?redirect=${encodeURIComponent(redirect)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect((await res.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(browser.cookie('gatehouse_sso_state')).toBeUndefined();
  });

  it('refuses a callback whose state was tampered with, or that reaches a browser without the state cookie (login CSRF)', async () => {
    const { login } = account(oidc);
    // The attacker runs the flow in their own browser and stops before the callback.
    const attacker = new TestBrowser(`${base}/auth/login/corp/callback`);
    const { appUrl: callback } = await attacker.navigate(startUrl('corp'), login);
    expect(callback?.searchParams.get('code')).toBeTruthy();

    // The victim's browser is sent to that callback: no state cookie, so nothing happens.
    const victim = new TestBrowser(APP);
    const csrf = await victim.navigate((callback as URL).href);
    expect(csrf.appUrl?.searchParams.get('error')).toBe('SSO_STATE_INVALID');
    expect(victim.cookie(app.config.cookies.refreshName)).toBeUndefined();

    // In the attacker's own browser, a changed state is refused as well.
    const tampered = new URL((callback as URL).href);
    tampered.searchParams.set('state', 'x'.repeat(43));
    const res = await new TestBrowser(APP).navigate(tampered.href);
    expect(res.appUrl?.searchParams.get('error')).toBe('SSO_STATE_INVALID');
    const withCookie = await attacker.fetch(tampered.href);
    expect(new URL(withCookie.headers.get('location') as string).searchParams.get('error')).toBe('SSO_STATE_INVALID');
  });

  it('refuses a replayed callback', async () => {
    const { login } = account(oidc);
    const browser = new TestBrowser(`${base}/auth/login/corp/callback`);
    const { appUrl: callback } = await browser.navigate(startUrl('corp'), login);
    const stateCookie = browser.cookieHeader(callback as URL);
    const first = await browser.fetch((callback as URL).href);
    expect(new URL(first.headers.get('location') as string).searchParams.get('code')).toBeTruthy();
    // Again in the same browser (its state cookie was cleared), and again with the old cookie put back.
    const again = await browser.fetch((callback as URL).href);
    expect(new URL(again.headers.get('location') as string).searchParams.get('error')).toBe('SSO_STATE_INVALID');
    const replay = await fetch((callback as URL).href, { headers: { cookie: stateCookie }, redirect: 'manual' });
    const error = new URL(replay.headers.get('location') as string).searchParams.get('error');
    expect(error).toBe('SSO_FAILED');
  });

  it('refuses a code redeemed with another flow’s PKCE verifier and nonce', async () => {
    const { login } = account(oidc);
    // Flow A is run to its callback; flow B is started in another browser. A's code with B's cookie
    // (B's state put on the URL so the state check passes) fails at the provider (PKCE) or on the nonce.
    const a = new TestBrowser(`${base}/auth/login/corp/callback`);
    const { appUrl: callbackA } = await a.navigate(startUrl('corp'), login);
    const b = new TestBrowser(APP);
    const startB = await b.fetch(startUrl('corp'));
    const stateB = new URL(startB.headers.get('location') as string).searchParams.get('state') as string;
    const forged = new URL((callbackA as URL).href);
    forged.searchParams.set('state', stateB);
    const res = await b.fetch(forged.href);
    expect(new URL(res.headers.get('location') as string).searchParams.get('error')).toBe('SSO_FAILED');
  });

  it('reports a provider that cannot be reached, and a sign-in cancelled at the provider', async () => {
    const down = await new TestBrowser(APP).navigate(startUrl('down'));
    expect(down.appUrl?.searchParams.get('error')).toBe('SSO_PROVIDER_UNAVAILABLE');

    const browser = new TestBrowser(APP);
    const start = await browser.fetch(startUrl('corp'));
    const state = new URL(start.headers.get('location') as string).searchParams.get('state') as string;
    const cancelled = await browser.navigate(
      `${base}/auth/login/corp/callback?error=access_denied&error_description=${encodeURIComponent('<b>provider text</b>')}&state=${state}`,
    );
    expect(cancelled.appUrl?.searchParams.get('error')).toBe('SSO_ACCESS_DENIED');
    expect(cancelled.appUrl?.href).not.toContain('provider');
  });

  it('voids a login code when the account’s credentials change before it is traded', async () => {
    const { login, email } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    await app.db.user.update({ where: { email }, data: { credentialVersion: { increment: 1 } } });
    expect((await exchange(appUrl.searchParams.get('code') as string)).code).toBe('INVALID_CREDENTIALS');
  });

  it('keys the identity by subject: a new email on the account does not lose it, a new email at the provider does not move it', async () => {
    const { login, email } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    const userId = (await exchange(appUrl.searchParams.get('code') as string)).data?.exchangeLoginCode.user.id as string;
    // An administrator changes the password-less account's email: nothing about a password is touched.
    const admin = await loginAsAdmin(app);
    const changed = uniqueEmail('renamed');
    const update = await app.client.request(UpdateUserDocument, { id: userId, input: { email: changed } }, { token: admin });
    expect(update.errors).toBeUndefined();
    expect((await app.db.user.findUniqueOrThrow({ where: { id: userId } })).passwordHash).toBeNull();
    // The provider now says yet another address: still the same account, by subject.
    oidc.accounts.set(login, { email: uniqueEmail('elsewhere'), emailVerified: true });
    const again = await signIn('corp', login);
    const res = await exchange(again.appUrl.searchParams.get('code') as string);
    expect(res.data?.exchangeLoginCode.user).toEqual({ id: userId, email: changed });
    expect(email).not.toBe(changed);
  });

  it('refuses an expired login code', async () => {
    const { login } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    const code = appUrl.searchParams.get('code') as string;
    await app.db.loginCode.update({ where: { id: code.split('.')[0] }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await exchange(code)).code).toBe('TOKEN_EXPIRED');
  });

  it('refuses suspended users', async () => {
    const { login, email } = account(oidc);
    await signIn('corp', login);
    await app.db.user.update({ where: { email }, data: { status: 'SUSPENDED' } });
    const { appUrl } = await signIn('corp', login, { mode: 'COOKIE' });
    expect(appUrl.searchParams.get('error')).toBe('INVALID_CREDENTIALS');
    // A code handed out before the suspension is refused too.
    await app.db.user.update({ where: { email }, data: { status: 'ACTIVE' } });
    const { appUrl: withCode } = await signIn('corp', login);
    await app.db.user.update({ where: { email }, data: { status: 'SUSPENDED' } });
    expect((await exchange(withCode.searchParams.get('code') as string)).code).toBe('INVALID_CREDENTIALS');
  });

  it('still asks accounts with 2FA for their OTP, in every mode', async () => {
    const { login, email } = account(oidc);
    const created = await signIn('corp', login);
    const first = await exchange(created.appUrl.searchParams.get('code') as string);
    const token = first.data?.exchangeLoginCode.accessToken as string;
    const secret = await enableTwoFactor(token, first.data?.exchangeLoginCode.user.id as string);

    const { appUrl } = await signIn('corp', login, { mode: 'COOKIE' });
    expect(appUrl.searchParams.get('otp_required')).toBe('true');
    const { browser } = await signIn('corp', login, { mode: 'SESSION' });
    expect(browser.cookie(app.config.cookies.sessionName)).toBeUndefined();
    const code = appUrl.searchParams.get('code') as string;
    expect((await exchange(code, 'COOKIE')).code).toBe('OTP_REQUIRED');
    // Asking without the OTP did not spend the code; a right OTP completes the login.
    const done = await exchange(code, 'COOKIE', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    expect(done.errors).toBeUndefined();
    expect(done.data?.exchangeLoginCode.user.email).toBe(email);
    expect(done.setCookies.some((c) => c.startsWith(`${app.config.cookies.refreshName}=`))).toBe(true);

    const wrong = await signIn('corp', login);
    expect((await exchange(wrong.appUrl.searchParams.get('code') as string, 'JSON', '000000')).code).toBe('INVALID_OTP');
  });
});

describe('single sign-on with a plain OAuth 2.0 provider', () => {
  it('creates the account by the profile id, and logs in with it again', async () => {
    const { login, email } = account(oauth);
    const { appUrl } = await signIn('hub', login);
    const res = await exchange(appUrl.searchParams.get('code') as string);
    expect(res.data?.exchangeLoginCode.user.email).toBe(email);
    const again = await signIn('hub', login);
    expect((await exchange(again.appUrl.searchParams.get('code') as string)).data?.exchangeLoginCode.user.email).toBe(email);
    expect(await app.db.identity.count({ where: { provider: 'hub', user: { email } } })).toBe(1);
  });

  it('refuses a replayed callback and a changed state, never passing on the provider’s text', async () => {
    const { login } = account(oauth);
    const browser = new TestBrowser(`${base}/auth/login/hub/callback`);
    const { appUrl: callback } = await browser.navigate(startUrl('hub'), login);
    const cookie = browser.cookieHeader(callback as URL);
    await browser.fetch((callback as URL).href);
    const replay = await fetch((callback as URL).href, { headers: { cookie }, redirect: 'manual' });
    const location = replay.headers.get('location') as string;
    expect(new URL(location).searchParams.get('error')).toBe('SSO_FAILED');
    expect(location).not.toContain('internal');
  });
});

describe('a second factor asserted by the provider', () => {
  it('is taken instead of the account’s OTP only where MFA_AMR names it', async () => {
    const login = `mfa-${Math.random().toString(36).slice(2, 10)}`;
    const email = uniqueEmail('mfa');
    oidc.accounts.set(login, { email, emailVerified: true });
    const created = await signIn('strong', login);
    const first = await exchange(created.appUrl.searchParams.get('code') as string);
    await enableTwoFactor(first.data?.exchangeLoginCode.accessToken as string, first.data?.exchangeLoginCode.user.id as string);

    // `strong` counts amr "mfa" as the second factor: no OTP asked, the session cookie is set.
    const strong = await signIn('strong', login, { mode: 'SESSION' });
    expect(strong.appUrl.searchParams.get('otp_required')).toBeNull();
    expect(strong.browser.cookie(app.config.cookies.sessionName)).toBeDefined();
  });

  it('does not skip the OTP at a provider without MFA_AMR, whatever amr says', async () => {
    const login = `mfa-${Math.random().toString(36).slice(2, 10)}`;
    oidc.accounts.set(login, { email: uniqueEmail('mfa'), emailVerified: true });
    const created = await signIn('corp', login);
    const first = await exchange(created.appUrl.searchParams.get('code') as string);
    await enableTwoFactor(first.data?.exchangeLoginCode.accessToken as string, first.data?.exchangeLoginCode.user.id as string);
    const again = await signIn('corp', login, { mode: 'SESSION' });
    expect(again.appUrl.searchParams.get('otp_required')).toBe('true');
    expect(again.browser.cookie(app.config.cookies.sessionName)).toBeUndefined();
  });
});

describe('linking identities from a signed-in session', () => {
  it('links a provider to a password account, lists it, and unlinks it', async () => {
    const owner = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: owner.email, password: TEST_PASSWORD, mode: 'JSON' });
    const token = login.data?.login.accessToken as string;
    // An address the account does not have, unverified: linking from the session does not need it.
    const external = account(oauth, { verified: false });

    const link = await app.client.request(LinkIdentityDocument, { provider: 'hub', redirect: APP }, { token });
    expect(link.errors).toBeUndefined();
    const { appUrl } = await new TestBrowser(APP).navigate(link.data?.linkIdentity as string, external.login);
    expect(appUrl?.searchParams.get('provider')).toBe('hub');
    const code = appUrl?.searchParams.get('link_code') as string;
    // The callback links nothing: only the session that asked, confirming, does.
    expect(await app.db.identity.count({ where: { userId: owner.id } })).toBe(0);
    const confirmed = await app.client.request(ConfirmLinkIdentityDocument, { code }, { token });
    expect(confirmed.data?.confirmLinkIdentity).toBe(true);
    // The code works once.
    expect((await app.client.request(ConfirmLinkIdentityDocument, { code }, { token })).code).toBe('INVALID_TOKEN');
    // The owner hears of the new way into the account.
    expect((await app.smtp.waitForMail(owner.email)).subject).toBe('Hub sign-in linked to your account');
    // The ticket worked once.
    const reused = await new TestBrowser(APP).navigate(link.data?.linkIdentity as string, external.login);
    expect(reused.appUrl?.searchParams.get('error')).toBe('INVALID_TOKEN');

    const viewer = await app.client.request(ViewerIdentitiesDocument, {}, { token });
    expect(viewer.data?.viewer?.identities).toEqual([{ provider: 'hub', email: external.email, lastUsedAt: expect.any(String) }]);
    // The identity now signs in to this account.
    const signedIn = await signIn('hub', external.login);
    expect((await exchange(signedIn.appUrl.searchParams.get('code') as string)).data?.exchangeLoginCode.user.id).toBe(owner.id);

    expect((await app.client.request(UnlinkIdentityDocument, { provider: 'hub' }, { token })).data?.unlinkIdentity).toBe(true);
    expect(await app.db.identity.count({ where: { userId: owner.id } })).toBe(0);
  });

  it('refuses to link an identity that belongs to another account', async () => {
    const { login } = account(oidc);
    await signIn('corp', login);
    const other = await registerUser(app);
    const res = await app.client.request(LoginDocument, { email: other.email, password: TEST_PASSWORD, mode: 'JSON' });
    const link = await app.client.request(LinkIdentityDocument, { provider: 'corp' }, { token: res.data?.login.accessToken as string });
    const { appUrl } = await new TestBrowser(APP).navigate(link.data?.linkIdentity as string, login);
    expect(appUrl?.searchParams.get('error')).toBe('SSO_IDENTITY_TAKEN');
  });

  it('does not attach a victim identity to the account that minted the link URL (login CSRF by linking)', async () => {
    const attacker = await registerUser(app);
    const attackerLogin = await app.client.request(LoginDocument, { email: attacker.email, password: TEST_PASSWORD, mode: 'JSON' });
    const attackerToken = attackerLogin.data?.login.accessToken as string;
    const victim = await registerUser(app);
    const victimLogin = await app.client.request(LoginDocument, { email: victim.email, password: TEST_PASSWORD, mode: 'JSON' });
    const victimToken = victimLogin.data?.login.accessToken as string;
    const victimAtProvider = account(oauth);

    // The attacker mints a link URL and gets the victim's browser (signed in at the provider) to open it.
    const link = await app.client.request(LinkIdentityDocument, { provider: 'hub', redirect: APP }, { token: attackerToken });
    const { appUrl } = await new TestBrowser(APP).navigate(link.data?.linkIdentity as string, victimAtProvider.login);
    expect(appUrl?.searchParams.get('error')).toBeNull();
    // Before the fix the callback linked here, to the attacker's account.
    expect(await app.db.identity.count({ where: { provider: 'hub', userId: { in: [attacker.id, victim.id] } } })).toBe(0);

    // The code lands in the victim's app, which confirms it from the victim's session: refused, and spent.
    const code = appUrl?.searchParams.get('link_code') as string;
    expect((await app.client.request(ConfirmLinkIdentityDocument, { code }, { token: victimToken })).code).toBe('SSO_STATE_INVALID');
    // Had the attacker got hold of the code afterwards, their own session could not use it either.
    expect((await app.client.request(ConfirmLinkIdentityDocument, { code }, { token: attackerToken })).code).toBe('INVALID_TOKEN');
    expect(await app.db.identity.count({ where: { provider: 'hub', userId: { in: [attacker.id, victim.id] } } })).toBe(0);

    // The victim's later sign-in with the provider does not land in the attacker's account.
    const later = await signIn('hub', victimAtProvider.login);
    const res = await exchange(later.appUrl.searchParams.get('code') as string);
    expect(res.data?.exchangeLoginCode.user.id).not.toBe(attacker.id);
  });

  it('confirms a pending link only from the session that asked, and only signed in', async () => {
    const owner = await registerUser(app);
    const first = await app.client.request(LoginDocument, { email: owner.email, password: TEST_PASSWORD, mode: 'JSON' });
    const second = await app.client.request(LoginDocument, { email: owner.email, password: TEST_PASSWORD, mode: 'JSON' });
    const external = account(oauth);
    const link = await app.client.request(LinkIdentityDocument, { provider: 'hub' }, { token: first.data?.login.accessToken as string });
    const { appUrl } = await new TestBrowser(APP).navigate(link.data?.linkIdentity as string, external.login);
    const code = appUrl?.searchParams.get('link_code') as string;
    // Without a viewer the code is not even looked at (and not spent).
    expect((await app.client.request(ConfirmLinkIdentityDocument, { code })).code).toBe('UNAUTHENTICATED');
    // The same user from another session: refused, and the code is spent.
    const other = await app.client.request(ConfirmLinkIdentityDocument, { code }, { token: second.data?.login.accessToken as string });
    expect(other.code).toBe('SSO_STATE_INVALID');
    const late = await app.client.request(ConfirmLinkIdentityDocument, { code }, { token: first.data?.login.accessToken as string });
    expect(late.code).toBe('INVALID_TOKEN');
    expect(await app.db.identity.count({ where: { userId: owner.id } })).toBe(0);
  });

  it('refuses linkIdentity without a session and with a foreign redirect', async () => {
    expect((await app.client.request(LinkIdentityDocument, { provider: 'corp' })).code).toBe('UNAUTHENTICATED');
    const owner = await registerUser(app);
    const res = await app.client.request(LoginDocument, { email: owner.email, password: TEST_PASSWORD, mode: 'JSON' });
    const token = res.data?.login.accessToken as string;
    expect((await app.client.request(LinkIdentityDocument, { provider: 'corp', redirect: 'https://evil.example/' }, { token })).code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await app.client.request(LinkIdentityDocument, { provider: 'nope' }, { token })).code).toBe('BAD_USER_INPUT');
  });

  it('refuses to unlink the last way to sign in, until the account has a password (set by reset)', async () => {
    const { login, email } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    const token = (await exchange(appUrl.searchParams.get('code') as string)).data?.exchangeLoginCode.accessToken as string;
    expect((await app.client.request(UnlinkIdentityDocument, { provider: 'corp' }, { token })).code).toBe('LAST_LOGIN_METHOD');
    expect((await app.client.request(UnlinkIdentityDocument, { provider: 'hub' }, { token })).code).toBe('NOT_FOUND');

    // No password to change: the normal refusal, nothing written.
    const change = await app.client.request(
      ChangePasswordDocument,
      { currentPassword: 'anything at all', newPassword: 'a brand new password' },
      { token },
    );
    expect(change.code).toBe('INVALID_CURRENT_PASSWORD');
    // 2FA enrolment asks for the password the account does not have.
    const enrol = await app.client.raw(
      { query: 'mutation { generateTwoFactorSecret(password: "anything at all") { secret } }' },
      { token },
    );
    expect(enrol.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');

    // A reset lets the owner set one; then password login works and the identity may go.
    await app.client.request(RequestPasswordResetDocument, { email });
    const mail = await app.smtp.waitForMail(email);
    const resetToken = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')?.[0] as string).searchParams.get('token') as string;
    expect(
      (await app.client.request(ResetPasswordDocument, { token: resetToken, password: 'a brand new password' })).errors,
    ).toBeUndefined();
    const login2 = await app.client.request(LoginDocument, { email, password: 'a brand new password', mode: 'JSON' });
    expect(login2.errors).toBeUndefined();
    const token2 = login2.data?.login.accessToken as string;
    expect((await app.client.request(UnlinkIdentityDocument, { provider: 'corp' }, { token: token2 })).data?.unlinkIdentity).toBe(true);
  });
});

describe('what the operator sees', () => {
  it('never logs the client secret, a login code or the provider tokens', async () => {
    const { login } = account(oidc);
    const { appUrl } = await signIn('corp', login);
    const code = appUrl.searchParams.get('code') as string;
    await exchange(code);
    const text = logs.join('');
    expect(text).toContain('single sign-on');
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(code.split('.')[1]);
  });
});

async function enableTwoFactor(token: string, _userId: string): Promise<string> {
  // The account has no password: set one through the database's hash of a reset is out of scope here,
  // so 2FA is enrolled the way an account with a password does, after giving it one.
  const hash = await app.services.passwordHasher.hash(TEST_PASSWORD, 'priority');
  await app.db.user.update({ where: { id: _userId }, data: { passwordHash: hash } });
  const setup = await app.client.raw<{ generateTwoFactorSecret: { secret: string } }>(
    { query: 'mutation($p: String!) { generateTwoFactorSecret(password: $p) { secret } }', variables: { p: TEST_PASSWORD } },
    { token },
  );
  const secret = setup.data?.generateTwoFactorSecret.secret as string;
  const enable = await app.client.raw(
    { query: 'mutation($o: String!) { enableTwoFactor(otp: $o) }', variables: { o: await generate({ secret }) } },
    { token },
  );
  if (enable.errors) throw new Error(JSON.stringify(enable.errors));
  return secret;
}
