import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RegisterDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('registration under the public policy', () => {
  it('creates a user from email and password, normalising the email', async () => {
    const email = uniqueEmail('Mixed');
    const res = await app.client.request(RegisterDocument, { input: { email: `  ${email.toUpperCase()} `, password: TEST_PASSWORD } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.createUser).toMatchObject({ email: email.toLowerCase(), status: 'ACTIVE', firstName: null });

    const row = await app.db.user.findUnique({
      where: { email: email.toLowerCase() },
      include: { policies: { include: { policy: true } } },
    });
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row?.passwordHash).not.toContain(TEST_PASSWORD);
    // The public policy's preset grants the default User policy, and nothing else.
    expect(row?.policies.map((p) => p.policy.name)).toEqual(['User']);
  });

  it.each([
    ['firstName', { firstName: 'Eve' }],
    ['status', { status: 'SUSPENDED' as const }],
    ['policies', { policies: ['00000000-0000-0000-0000-000000000000'] }],
    ['role', { role: '00000000-0000-0000-0000-000000000000' }],
  ])('refuses the field %s from an anonymous caller with FORBIDDEN naming it, writing nothing', async (field, extra) => {
    const email = uniqueEmail();
    const res = await app.client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD, ...extra } });
    expect(res.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toContain(`"${field}"`);
    expect(await app.db.user.count({ where: { email } })).toBe(0);
  });

  it('gives EMAIL_TAKEN for an address that is already registered, in any case', async () => {
    const email = uniqueEmail();
    await app.client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD } });
    const res = await app.client.request(RegisterDocument, { input: { email: email.toUpperCase(), password: TEST_PASSWORD } });
    expect(res.code).toBe('EMAIL_TAKEN');
    expect(JSON.stringify(res.errors)).not.toMatch(/prisma|unique|constraint|P2002/i);
  });

  it.each([
    ['too short', 'short'],
    ['absurdly long', 'x'.repeat(100_000)],
  ])('refuses a password that is %s with BAD_USER_INPUT', async (_label, password) => {
    const email = uniqueEmail();
    const res = await app.client.request(RegisterDocument, { input: { email, password } });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('password');
    expect(await app.db.user.count({ where: { email } })).toBe(0);
  });

  it('refuses an invalid email with BAD_USER_INPUT', async () => {
    const res = await app.client.request(RegisterDocument, { input: { email: 'not-an-email', password: TEST_PASSWORD } });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('does not let a signed-in ordinary user create accounts', async () => {
    const user = await registerAndLogin(app);
    const res = await app.client.request(
      RegisterDocument,
      { input: { email: uniqueEmail(), password: TEST_PASSWORD } },
      { token: user.accessToken },
    );
    expect(res.code).toBe('FORBIDDEN');
  });

  it('lets an admin set every field', async () => {
    const token = await loginAsAdmin(app);
    const email = uniqueEmail();
    const res = await app.client.request(
      RegisterDocument,
      { input: { email, password: TEST_PASSWORD, firstName: 'Ada', status: 'SUSPENDED' } },
      { token },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.createUser).toMatchObject({ email, firstName: 'Ada', status: 'SUSPENDED' });
  });
});

describe('privilege escalation through roles', () => {
  it('does not let a non-admin who may set `role` hand out a role that grants admin access', async () => {
    const stamp = `${Date.now()}-${process.pid}`;
    const recruiter = await app.db.policy.create({
      data: {
        name: `Recruiter ${stamp}`,
        permissions: { create: [{ resource: 'users', action: 'create', fields: ['email', 'password', 'role'] }] },
      },
    });
    const adminPolicy = await app.db.policy.findUniqueOrThrow({ where: { name: 'Administrator' } });
    const parent = await app.db.role.create({ data: { name: `Admins ${stamp}`, policies: { create: [{ policyId: adminPolicy.id }] } } });
    const child = await app.db.role.create({ data: { name: `Admin children ${stamp}`, parentId: parent.id } });
    const plain = await app.db.role.create({ data: { name: `Staff ${stamp}` } });
    const email = uniqueEmail('recruiter');
    await app.client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD } });
    const user = await app.db.user.findUniqueOrThrow({ where: { email } });
    await app.db.userPolicy.create({ data: { userId: user.id, policyId: recruiter.id } });

    // A fresh instance loads the new policy at once.
    const other = await startTestApp();
    try {
      const login = await other.client.request(LoginDocument, { email, password: TEST_PASSWORD });
      const token = login.data!.login.accessToken!;
      for (const role of [parent.id, child.id]) {
        const target = uniqueEmail();
        const res = await other.client.request(RegisterDocument, { input: { email: target, password: TEST_PASSWORD, role } }, { token });
        expect(res.code).toBe('FORBIDDEN');
        expect(res.errors?.[0]?.extensions?.field).toBe('role');
        expect(await other.db.user.count({ where: { email: target } })).toBe(0);
      }
      const allowed = uniqueEmail();
      const ok = await other.client.request(
        RegisterDocument,
        { input: { email: allowed, password: TEST_PASSWORD, role: plain.id } },
        { token },
      );
      // Created; but the recruiter holds no users:read, so the returned fields are not theirs to see.
      expect(await other.db.user.findUniqueOrThrow({ where: { email: allowed } })).toMatchObject({ roleId: plain.id });
      expect(ok.code).toBe('FORBIDDEN');
    } finally {
      await other.close();
    }
  });
});
