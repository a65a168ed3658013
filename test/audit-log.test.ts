import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotp, TOTP_PERIOD_SECONDS } from '../src/crypto/totp.ts';
import type { AuthEvent } from '../src/generated/prisma/client.ts';
import {
  AuthEventsDocument,
  ChangePasswordDocument,
  CreatePermissionDocument,
  CreatePolicyDocument,
  CreateRoleDocument,
  DeleteUserDocument,
  DisableTwoFactorDocument,
  EnableTwoFactorDocument,
  GenerateTwoFactorSecretDocument,
  LoginDocument,
  LoginWithOtpDocument,
  LogoutDocument,
  LogoutEverywhereDocument,
  RefreshDocument,
  RegisterDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  RevokeSessionDocument,
  UpdateUserDocument,
  UserSecurityEventsDocument,
  ViewerSecurityEventsDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { postFrom } from './helpers/from-ip.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

const UA = 'AuditTest/1.0 (account-security page)';
let app: TestApp;
let adminToken: string;
beforeAll(async () => {
  app = await startTestApp({
    LOGIN_LOCKOUT_THRESHOLD: '3',
    REFRESH_REUSE_GRACE: '1s',
    RATE_LIMIT_REQUEST_PASSWORD_RESET_IP: '3/1h',
  });
  adminToken = await loginAsAdmin(app);
});
afterAll(() => app.close());

const headers = { 'user-agent': UA };

/** The events of one user (or matching `where`), oldest first, once the buffer has been written. */
async function events(where: Record<string, unknown>): Promise<Omit<AuthEvent, 'seq'>[]> {
  await app.services.auditLog.flush();
  return app.db.authEvent.findMany({ where, orderBy: [{ createdAt: 'asc' }, { seq: 'asc' }], omit: { seq: true } });
}
const ofType = async (userId: string, type: string) => events({ userId, type });

async function login(email: string, password = TEST_PASSWORD) {
  return app.client.request(LoginDocument, { email, password, mode: 'JSON' }, { headers });
}

async function enrolTwoFactor(token: string) {
  const setup = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token });
  const { secret } = setup.data!.generateTwoFactorSecret;
  const now = Math.floor(Date.now() / 1000);
  const enable = await app.client.request(
    EnableTwoFactorDocument,
    { otp: await generateTotp(secret, now - TOTP_PERIOD_SECONDS) },
    { token, headers },
  );
  expect(enable.errors).toBeUndefined();
  return { secret, recoveryCodes: enable.data!.enableTwoFactor };
}

describe('audit log: sign-in', () => {
  it('records a successful login with user, session, IP, user agent and mode', async () => {
    const user = await registerUser(app);
    const res = await login(user.email);
    expect(res.errors).toBeUndefined();
    const [event] = await ofType(user.id, 'login.succeeded');
    const session = await app.db.session.findFirstOrThrow({ where: { userId: user.id } });
    expect(event).toMatchObject({ outcome: 'success', userId: user.id, sessionId: session.id, ip: '127.0.0.1', userAgent: UA });
    expect(event!.details).toMatchObject({ mode: 'JSON', secondFactor: false });
  });

  it('records a wrong password as login.failed with reason bad_credentials and the account', async () => {
    const user = await registerUser(app);
    expect((await login(user.email, 'not the password at all')).code).toBe('INVALID_CREDENTIALS');
    const [event] = await ofType(user.id, 'login.failed');
    expect(event).toMatchObject({
      outcome: 'failure',
      userId: user.id,
      ip: '127.0.0.1',
      userAgent: UA,
      details: { reason: 'bad_credentials' },
    });
    expect(JSON.stringify(event)).not.toContain(user.email);
  });

  it('stores a failed login for an unknown address only as a keyed hash, equal for repeated attempts on it', async () => {
    const email = uniqueEmail('nobody');
    const other = uniqueEmail('nobody-else');
    await login(email, 'guess one');
    await login(` ${email.toUpperCase()} `, 'guess two');
    await login(other, 'guess three');
    await app.services.auditLog.flush();
    const hash = app.services.auditLog.hashEmail(email);
    const attempts = await events({ subjectHash: hash });
    expect(attempts.map((e) => [e.type, e.userId, (e.details as { reason: string }).reason])).toEqual([
      ['login.failed', null, 'bad_credentials'],
      ['login.failed', null, 'bad_credentials'],
    ]);
    expect(hash).not.toBe(app.services.auditLog.hashEmail(other));
    // Nowhere in the table, in any column, does the typed address appear.
    const [row] = await app.db.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM "AuthEvent" e WHERE lower(row_to_json(e)::text) LIKE ${`%${email.toLowerCase()}%`}`;
    expect(row?.count).toBe(0);
  });

  it('records a suspended account’s login as not_active, and the suspension with the admin as actor', async () => {
    const user = await registerUser(app);
    const admin = await app.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
    const suspend = await app.client.request(UpdateUserDocument, { id: user.id, input: { status: 'SUSPENDED' } }, { token: adminToken });
    expect(suspend.errors).toBeUndefined();
    expect((await login(user.email)).code).toBe('INVALID_CREDENTIALS');
    const [changed] = await ofType(user.id, 'user.status_changed');
    expect(changed).toMatchObject({ userId: user.id, actorId: admin.id, details: { status: 'SUSPENDED' } });
    const [failed] = await ofType(user.id, 'login.failed');
    expect(failed!.details).toEqual({ reason: 'not_active' });
  });

  it('records OTP required / invalid, 2FA enabled and disabled, and a recovery code used', async () => {
    const user = await registerAndLogin(app);
    const { recoveryCodes } = await enrolTwoFactor(user.accessToken);
    expect((await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD }, { headers })).code).toBe(
      'OTP_REQUIRED',
    );
    const wrongOtp = await app.client.request(
      LoginWithOtpDocument,
      { email: user.email, password: TEST_PASSWORD, otp: '000000' },
      { headers },
    );
    expect(wrongOtp.code).toBe('INVALID_OTP');
    const withCode = await app.client.request(
      LoginWithOtpDocument,
      { email: user.email, password: TEST_PASSWORD, otp: recoveryCodes[0]!, mode: 'JSON' },
      { headers },
    );
    expect(withCode.errors).toBeUndefined();
    const token = withCode.data!.login.accessToken!;
    expect((await app.client.request(DisableTwoFactorDocument, { otp: recoveryCodes[1]! }, { token, headers })).errors).toBeUndefined();

    const failed = await ofType(user.id, 'login.failed');
    expect(failed.map((e) => (e.details as { reason: string }).reason)).toEqual(['otp_required', 'otp_invalid']);
    expect(await ofType(user.id, 'two_factor.enabled')).toHaveLength(1);
    const used = await ofType(user.id, 'two_factor.recovery_code_used');
    expect(used).toHaveLength(2);
    expect(used[0]).toMatchObject({ ip: '127.0.0.1', userAgent: UA, details: { remaining: 9 } });
    const [disabled] = await ofType(user.id, 'two_factor.disabled');
    expect(disabled).toMatchObject({ userId: user.id, ip: '127.0.0.1', actorId: null });
    const succeeded = await ofType(user.id, 'login.succeeded');
    expect(succeeded.map((e) => (e.details as { secondFactor: boolean }).secondFactor)).toEqual([false, true]);
  });

  it('records lockout.triggered at the threshold and then login.failed with reason locked', async () => {
    const user = await registerUser(app);
    for (let i = 0; i < 3; i++) expect((await login(user.email, `wrong guess ${i}`)).code).toBe('INVALID_CREDENTIALS');
    expect((await login(user.email)).code).toBe('RATE_LIMITED');
    const [lockout] = await ofType(user.id, 'lockout.triggered');
    expect(lockout).toMatchObject({ outcome: 'failure', userId: user.id, subjectHash: app.services.auditLog.hashEmail(user.email) });
    expect(lockout!.details).toMatchObject({ level: 1 });
    const reasons = (await ofType(user.id, 'login.failed')).map((e) => (e.details as { reason: string }).reason);
    expect(reasons).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials']);
    // The locked attempt never reached the account: it is grouped by the address's hash.
    const locked = await events({ subjectHash: app.services.auditLog.hashEmail(user.email), type: 'login.failed', userId: null });
    expect(locked.map((e) => (e.details as { reason: string }).reason)).toEqual(['locked']);
  });

  it('records rate_limit.triggered with the operation and client address', async () => {
    const ip = '127.0.0.77';
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postFrom(`${app.url}/graphql`, ip, {
        query: 'mutation($email: String!) { requestPasswordReset(email: $email) }',
        variables: { email: uniqueEmail('limited') },
      });
      codes.push(res.code);
    }
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    const hits = await events({ type: 'rate_limit.triggered', ip });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ outcome: 'failure', userId: null, details: { operation: 'requestPasswordReset' } });
  });
});

describe('audit log: tokens and sessions', () => {
  it('records refreshes and a detected reuse that revoked the session', async () => {
    const user = await registerAndLogin(app);
    const next = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken, mode: 'JSON' }, { headers });
    await app.client.request(RefreshDocument, { refreshToken: next.data!.refresh.refreshToken!, mode: 'JSON' }, { headers });
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past REFRESH_REUSE_GRACE
    const replay = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken, mode: 'JSON' }, { headers });
    expect(replay.code).toBe('INVALID_TOKEN');
    const refreshed = await ofType(user.id, 'token.refreshed');
    expect(refreshed).toHaveLength(2);
    expect(refreshed[0]).toMatchObject({ ip: '127.0.0.1', userAgent: UA, details: { mode: 'JSON' } });
    const [reuse] = await ofType(user.id, 'token.reuse_detected');
    expect(reuse).toMatchObject({ outcome: 'failure', sessionId: refreshed[0]!.sessionId, details: { sessionRevoked: true } });
  });

  it('records logout of one session and of all sessions', async () => {
    const user = await registerAndLogin(app);
    const second = (await login(user.email)).data!.login;
    await app.client.request(LogoutDocument, { refreshToken: second.refreshToken }, { headers });
    await app.client.request(LogoutEverywhereDocument, { refreshToken: user.refreshToken }, { headers });
    const [one] = await ofType(user.id, 'logout');
    expect(one).toMatchObject({ userId: user.id, actorId: null, details: { sessionsEnded: 1 } });
    const [all] = await ofType(user.id, 'logout.all');
    expect(all).toMatchObject({ userId: user.id, details: { sessionsEnded: 1 } });
  });

  it('records a session revoked by its owner and one revoked by an administrator', async () => {
    const user = await registerAndLogin(app);
    const other = (await login(user.email)).data!.login;
    const sessions = await app.db.session.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } });
    await app.client.request(RevokeSessionDocument, { id: sessions[1]!.id }, { token: user.accessToken, headers });
    const byAdmin = await app.client.request(RevokeSessionDocument, { id: sessions[0]!.id }, { token: adminToken });
    expect(byAdmin.errors).toBeUndefined();
    expect(other.accessToken).toBeTruthy();
    const revoked = await ofType(user.id, 'session.revoked');
    expect(revoked.map((e) => [e.sessionId, (e.details as { by: string }).by, e.actorId === null])).toEqual([
      [sessions[1]!.id, 'user', true],
      [sessions[0]!.id, 'admin', false],
    ]);
  });
});

describe('audit log: credentials and accounts', () => {
  it('records a password change, a reset request (known and unknown address) and its completion', async () => {
    const user = await registerAndLogin(app);
    await app.client.request(
      ChangePasswordDocument,
      { currentPassword: TEST_PASSWORD, newPassword: 'another good passphrase 1' },
      { token: user.accessToken, headers },
    );
    await app.client.request(RequestPasswordResetDocument, { email: user.email }, { headers });
    const mail = await app.smtp.waitForMail(user.email);
    const token = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
    expect(
      (await app.client.request(ResetPasswordDocument, { token, password: 'a third passphrase 22' }, { headers })).errors,
    ).toBeUndefined();
    const unknown = uniqueEmail('no-account');
    await app.client.request(RequestPasswordResetDocument, { email: unknown }, { headers });
    await app.services.background.drain();

    expect(await ofType(user.id, 'password.changed')).toMatchObject([{ sessionId: expect.any(String), ip: '127.0.0.1', userAgent: UA }]);
    expect(await ofType(user.id, 'password.reset_requested')).toMatchObject([{ details: { mailed: true }, ip: '127.0.0.1' }]);
    expect(await ofType(user.id, 'password.reset_completed')).toMatchObject([{ details: { sessionsEnded: 1 }, userAgent: UA }]);
    const anonymous = await events({ subjectHash: app.services.auditLog.hashEmail(unknown) });
    expect(anonymous).toMatchObject([{ type: 'password.reset_requested', userId: null, details: { mailed: false } }]);
  });

  it('records registration, creation and deletion of users, with the admin as actor', async () => {
    const admin = await app.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
    const registered = await registerUser(app);
    const created = await app.client.request(
      RegisterDocument,
      { input: { email: uniqueEmail('made'), password: TEST_PASSWORD } },
      { token: adminToken },
    );
    const createdId = created.data!.createUser.id;
    await app.client.request(DeleteUserDocument, { id: createdId }, { token: adminToken });
    expect(await ofType(registered.id, 'user.registered')).toMatchObject([{ actorId: null, details: { status: 'ACTIVE' } }]);
    expect(await ofType(createdId, 'user.created')).toMatchObject([{ actorId: admin.id }]);
    expect(await ofType(createdId, 'user.deleted')).toMatchObject([{ actorId: admin.id }]);
  });

  it('records role, policy and permission changes and signing-key rotations', async () => {
    const admin = await app.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
    const role = await app.client.request(CreateRoleDocument, { input: { name: `auditors-${Date.now()}` } }, { token: adminToken });
    const policy = await app.client.request(CreatePolicyDocument, { input: { name: `audit-${Date.now()}` } }, { token: adminToken });
    const policyId = policy.data!.createPolicy.id;
    const permission = await app.client.request(
      CreatePermissionDocument,
      { input: { policy: policyId, resource: 'auth_events', action: 'read', fields: ['*'], filter: { userId: { _eq: '$CURRENT_USER' } } } },
      { token: adminToken },
    );
    expect(permission.errors).toBeUndefined();
    const kid = (await app.services.signingKeys.rotate()).kid;
    await app.services.auditLog.flush();
    const changes = await events({ actorId: admin.id, type: { in: ['role.changed', 'policy.changed', 'permission.changed'] } });
    expect(changes.map((e) => [e.type, e.details])).toEqual(
      expect.arrayContaining([
        ['role.changed', { action: 'create', id: role.data!.createRole.id }],
        ['policy.changed', { action: 'create', id: policyId }],
        ['permission.changed', { action: 'create', id: permission.data!.createPermission.id }],
      ]),
    );
    const [rotated] = await events({ type: 'signing_key.rotated', details: { path: ['kid'], equals: kid } });
    expect(rotated).toMatchObject({ outcome: 'success', details: { reason: 'rotation', immediate: false } });
  });
});

describe('reading the audit log', () => {
  it('gives administrators every event, newest first, filtered and paged by cursor', async () => {
    const user = await registerUser(app);
    for (let i = 0; i < 3; i++) await login(user.email, `bad ${i} attempt`);
    await login(user.email);
    await app.services.auditLog.flush();
    const first = await app.client.request(AuthEventsDocument, { userId: user.id, first: 3 }, { token: adminToken });
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.authEvents;
    // Three failures locked the account, so the good password was refused too (recorded by the address's hash only).
    expect(page1.edges.map((e) => e.node.type)).toEqual(['login.failed', 'lockout.triggered', 'login.failed']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await app.client.request(
      AuthEventsDocument,
      { userId: user.id, first: 10, after: page1.pageInfo.endCursor },
      { token: adminToken },
    );
    // The refused attempt on the locked account is not among them: it never looked the account up (see the next test).
    expect(second.data!.authEvents.edges.map((e) => e.node.type)).toEqual(['login.failed', 'user.registered']);
    expect(second.data!.authEvents.pageInfo.hasNextPage).toBe(false);

    const typed = await app.client.request(AuthEventsDocument, { userId: user.id, type: 'lockout.triggered' }, { token: adminToken });
    expect(typed.data!.authEvents.edges).toHaveLength(1);
    const future = await app.client.request(
      AuthEventsDocument,
      { since: new Date(Date.now() + 60_000).toISOString() },
      { token: adminToken },
    );
    expect(future.data!.authEvents.edges).toEqual([]);
    const badType = await app.client.request(AuthEventsDocument, { type: 'nope' }, { token: adminToken });
    expect(badType.code).toBe('BAD_USER_INPUT');
  });

  it('pages one by one through events of the same millisecond, newest (last written) first, none skipped or repeated', async () => {
    const user = await registerAndLogin(app);
    // Stamped a minute ahead so they are the user's newest; written in one INSERT, as the audit log writes a batch.
    const createdAt = new Date(Date.now() + 60_000);
    const types = ['login.failed', 'lockout.triggered', 'login.failed', 'password.changed', 'login.failed', 'two_factor.enabled', 'logout'];
    await app.db.authEvent.createMany({
      data: types.map((type, n) => ({ createdAt, type, outcome: 'success', userId: user.id, details: { n } })),
    });
    const newestFirst = types.map((_, n) => n).reverse();
    const onePage = async (after: string | null) => {
      const res = await app.client.request(
        AuthEventsDocument,
        { userId: user.id, first: 1, after, since: createdAt.toISOString() },
        { token: adminToken },
      );
      expect(res.errors).toBeUndefined();
      return res.data!.authEvents;
    };
    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < types.length; page++) {
      const { edges, pageInfo } = await onePage(after);
      expect(edges).toHaveLength(1);
      seen.push((edges[0]!.node.details as { n: number }).n);
      expect(pageInfo.hasNextPage).toBe(page < types.length - 1);
      after = pageInfo.endCursor ?? null;
    }
    expect(seen).toEqual(newestFirst);
    // The user's own list orders them the same way.
    const own = await app.client.request(ViewerSecurityEventsDocument, { first: 50 }, { token: user.accessToken });
    const ownSameInstant = own.data!.viewer!.securityEvents!.filter((e) => e.createdAt === createdAt.toISOString());
    expect(ownSameInstant.map((e) => (e.details as { n: number }).n)).toEqual(newestFirst.filter((n) => types[n] !== 'logout'));
  });

  it('refuses the audit log to signed-in users without auth_events:read and to anonymous callers', async () => {
    const user = await registerAndLogin(app);
    const asUser = await app.client.request(AuthEventsDocument, {}, { token: user.accessToken });
    expect(asUser.code).toBe('FORBIDDEN');
    expect(asUser.data).toBeNull();
    const anonymous = await app.client.request(AuthEventsDocument, {});
    expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain(anonymous.code);
    expect(anonymous.data).toBeNull();
  });

  it('shows a signed-in user their own security events only, with IP and user agent', async () => {
    const user = await registerAndLogin(app);
    const other = await registerAndLogin(app);
    await login(user.email, 'a wrong password here');
    await login(other.email, 'a wrong password here');
    await app.services.auditLog.flush();
    const res = await app.client.request(ViewerSecurityEventsDocument, { first: 10 }, { token: user.accessToken });
    expect(res.errors).toBeUndefined();
    const own = res.data!.viewer!.securityEvents!;
    expect(own.map((e) => [e.type, e.outcome])).toEqual([
      ['login.failed', 'failure'],
      ['login.succeeded', 'success'],
    ]);
    expect(own[0]).toMatchObject({ ip: '127.0.0.1', userAgent: UA, details: { reason: 'bad_credentials' } });
    const ids = new Set((await events({ userId: other.id })).map((e) => e.id));
    expect(own.some((e) => ids.has(e.id))).toBe(false);
    // Another account's security events are not readable through user(id:), even by an administrator.
    const asAdmin = await app.client.request(UserSecurityEventsDocument, { id: user.id }, { token: adminToken });
    expect(asAdmin.data!.user!.securityEvents).toBeNull();
  });
});
