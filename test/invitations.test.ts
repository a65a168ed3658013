import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptInviteDocument,
  CreatePermissionDocument,
  CreatePolicyDocument,
  CreateRoleDocument,
  InviteUserDocument,
  LoginDocument,
  PoliciesDocument,
  UpdateUserDocument,
  VerifyEmailDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { linkIn, mailsTo, settle, waitForNthMail } from './helpers/mail-links.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

const NEW_PASSWORD = 'an invited passphrase 7';

let app: TestApp;
let adminToken: string;
beforeAll(async () => {
  app = await startTestApp({ USER_INVITE_TTL: '3d' });
  adminToken = await loginAsAdmin(app);
});
afterAll(() => app.close());

async function inviteToken(email: string, nth = 1): Promise<{ token: string; link: URL }> {
  const mail = await waitForNthMail(app.smtp, email, nth);
  expect(mail.subject).toBe('You are invited to create an account');
  const link = linkIn(mail);
  return { token: link.searchParams.get('token') as string, link };
}

async function invite(email: string, extra: { roleId?: string; policyIds?: string[]; inviteUrl?: string } = {}, token = adminToken) {
  return app.client.request(InviteUserDocument, { email, ...extra }, { token });
}

describe('inviteUser and acceptInvite', () => {
  it('invite -> mail to Gatehouse’s page -> accept -> login', async () => {
    const email = uniqueEmail('inv');
    const res = await invite(email);
    expect(res.errors).toBeUndefined();
    expect(res.data?.inviteUser).toBe(true);
    const user = await app.db.user.findUniqueOrThrow({ where: { email } });
    expect(user.status).toBe('INVITED');

    const { token, link } = await inviteToken(email);
    expect(`${link.origin}${link.pathname}`).toBe(`${app.config.publicUrl}/accept-invite`);
    // The default page is served, with the reset page's strict headers.
    // (PUBLIC_URL names port 0 here: the server is asked at its real port.)
    const page = await fetch(`${app.url}${link.pathname}${link.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/accept-invite/page.js');
    expect((await fetch(`${app.url}/accept-invite/page.js`)).status).toBe(200);

    // An invited account cannot sign in, whatever the password.
    expect((await app.client.request(LoginDocument, { email, password: NEW_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
    // The password rules apply; a refused password leaves the token usable.
    expect((await app.client.request(AcceptInviteDocument, { token, password: 'short' })).code).toBe('BAD_USER_INPUT');
    const accepted = await app.client.request(AcceptInviteDocument, { token, password: NEW_PASSWORD });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data?.acceptInvite).toBe(true);
    const login = await app.client.request(LoginDocument, { email, password: NEW_PASSWORD });
    expect(login.errors).toBeUndefined();
    expect(login.data?.login.user.id).toBe(user.id);

    // Single use.
    expect((await app.client.request(AcceptInviteDocument, { token, password: 'someone else’s passphrase' })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(LoginDocument, { email, password: NEW_PASSWORD })).errors).toBeUndefined();
  });

  it('an invitation lasts USER_INVITE_TTL, then is TOKEN_EXPIRED; inviting again mails a new link and voids the old', async () => {
    const email = uniqueEmail('inv');
    await invite(email);
    const first = await inviteToken(email, 1);
    const row = await app.db.emailToken.findUniqueOrThrow({ where: { id: first.token.split('.')[0]! } });
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(3 * 86_400_000);
    // The clock: the row's expiry moved to the past, as three days passing would.
    await app.db.emailToken.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await app.client.request(AcceptInviteDocument, { token: first.token, password: NEW_PASSWORD })).code).toBe('TOKEN_EXPIRED');

    expect((await invite(email)).data?.inviteUser).toBe(true);
    const second = await inviteToken(email, 2);
    expect(second.token).not.toBe(first.token);
    expect(await app.db.user.count({ where: { email } })).toBe(1);
    expect((await app.client.request(AcceptInviteDocument, { token: second.token, password: NEW_PASSWORD })).data?.acceptInvite).toBe(true);

    // Now ACTIVE: no more invitations for this address.
    const again = await invite(email);
    expect(again.code).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('an invitation of a re-invited user voids the earlier link', async () => {
    const email = uniqueEmail('inv');
    await invite(email);
    const first = await inviteToken(email, 1);
    await invite(email);
    const second = await inviteToken(email, 2);
    expect((await app.client.request(AcceptInviteDocument, { token: first.token, password: NEW_PASSWORD })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(AcceptInviteDocument, { token: second.token, password: NEW_PASSWORD })).data?.acceptInvite).toBe(true);
  });

  it('an invitation token is no verification token', async () => {
    const email = uniqueEmail('inv');
    await invite(email);
    const { token } = await inviteToken(email);
    expect((await app.client.request(VerifyEmailDocument, { token })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(AcceptInviteDocument, { token, password: NEW_PASSWORD })).data?.acceptInvite).toBe(true);
  });

  it('anonymous callers and signed-in users without users:create cannot invite', async () => {
    const anonymous = await app.client.request(InviteUserDocument, { email: uniqueEmail('inv') });
    expect(anonymous.code).toBe('UNAUTHENTICATED');
    const user = await registerAndLogin(app);
    const email = uniqueEmail('inv');
    const res = await invite(email, {}, user.accessToken);
    expect(res.code).toBe('FORBIDDEN');
    expect(await app.db.user.count({ where: { email } })).toBe(0);
  });

  it('an inviter grants no more than createUser would let them: no admin role or policy without admin access', async () => {
    const policies = (await app.client.request(PoliciesDocument, {}, { token: adminToken })).data!.policies;
    const adminPolicy = policies.find((p) => p.name === 'Administrator')!;
    const userPolicy = policies.find((p) => p.name === 'User')!;
    const suffix = randomUUID().slice(0, 8);
    const adminRole = (
      await app.client.request(
        CreateRoleDocument,
        { input: { name: `Admins ${suffix}`, policies: [adminPolicy.id] } },
        { token: adminToken },
      )
    ).data!.createRole;
    const staffRole = (
      await app.client.request(CreateRoleDocument, { input: { name: `Staff ${suffix}`, policies: [userPolicy.id] } }, { token: adminToken })
    ).data!.createRole;
    const inviters = (await app.client.request(CreatePolicyDocument, { input: { name: `Inviters ${suffix}` } }, { token: adminToken }))
      .data!.createPolicy;
    const permission = await app.client.request(
      CreatePermissionDocument,
      { input: { policy: inviters.id, resource: 'users', action: 'create', fields: ['email', 'role', 'policies'] } },
      { token: adminToken },
    );
    expect(permission.errors).toBeUndefined();
    const inviter = await registerUser(app);
    await app.client.request(
      UpdateUserDocument,
      { id: inviter.id, input: { policies: [userPolicy.id, inviters.id] } },
      { token: adminToken },
    );
    const login = await app.client.request(LoginDocument, { email: inviter.email, password: TEST_PASSWORD });
    const inviterToken = login.data!.login.accessToken!;

    const viaRole = await invite(uniqueEmail('inv'), { roleId: adminRole.id }, inviterToken);
    expect(viaRole.code).toBe('FORBIDDEN');
    expect(viaRole.errors?.[0]?.extensions?.field).toBe('role');
    const viaPolicy = await invite(uniqueEmail('inv'), { policyIds: [adminPolicy.id] }, inviterToken);
    expect(viaPolicy.code).toBe('FORBIDDEN');
    expect(viaPolicy.errors?.[0]?.extensions?.field).toBe('policies');
    await settle();
    expect(await app.db.user.count({ where: { status: 'INVITED', roleId: adminRole.id } })).toBe(0);

    // What they may grant works, and the invitee gets exactly that.
    const email = uniqueEmail('inv');
    const ok = await invite(email, { roleId: staffRole.id }, inviterToken);
    expect(ok.errors).toBeUndefined();
    expect((await app.db.user.findUniqueOrThrow({ where: { email } })).roleId).toBe(staffRole.id);
    // An administrator may grant admin access through a role.
    const byAdmin = uniqueEmail('inv');
    expect((await invite(byAdmin, { roleId: adminRole.id })).errors).toBeUndefined();
  });

  it('refuses an inviteUrl outside USER_INVITE_URL_ALLOW_LIST before looking the address up', async () => {
    const active = await registerUser(app);
    const fresh = uniqueEmail('inv');
    for (const email of [active.email, fresh]) {
      const res = await invite(email, { inviteUrl: 'https://evil.example/accept-invite' });
      expect(res.code).toBe('BAD_USER_INPUT');
      // The URL, not the (taken) address: it was checked first.
      expect(res.errors?.[0]?.extensions?.field).toBe('inviteUrl');
    }
    await settle();
    expect(mailsTo(app.smtp, fresh)).toHaveLength(0);
    expect(await app.db.user.count({ where: { email: fresh } })).toBe(0);
  });
});
