import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteUserDocument,
  LoginDocument,
  RefreshDocument,
  UpdateUserDocument,
  type UpdateUserInput,
  UsersDocument,
  ViewerDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { postFrom } from './helpers/from-ip.ts';
import { createIsolatedDatabase } from './helpers/isolated-database.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

let app: TestApp;
let adminToken: string;

beforeAll(async () => {
  app = await startTestApp();
  adminToken = await loginAsAdmin(app);
});

afterAll(async () => {
  await app?.close();
});

async function viewerCode(token: string): Promise<string> {
  const res = await app.client.request(ViewerDocument, {}, { token });
  return res.code ?? 'OK';
}

/** A policy made through the admin API, with the given permissions. */
async function createPolicy(permissions: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await app.client.raw<{ createPolicy: { id: string } }>(
    {
      query: 'mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }',
      variables: { input: { name: `Policy ${uniqueEmail()}`, ...extra } },
    },
    { token: adminToken },
  );
  const id = created.data?.createPolicy.id;
  if (!id) throw new Error(JSON.stringify(created.errors));
  for (const input of permissions) {
    const res = await app.client.raw(
      {
        query: 'mutation($input: CreatePermissionInput!) { createPermission(input: $input) { id } }',
        variables: { input: { policy: id, ...input } },
      },
      { token: adminToken },
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
  }
  return id;
}

async function grant(userId: string, policyIds: string[]): Promise<void> {
  const user = await app.db.policy.findUniqueOrThrow({ where: { name: 'User' } });
  const res = await app.client.request(
    UpdateUserDocument,
    { id: userId, input: { policies: [user.id, ...policyIds] } },
    { token: adminToken },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

function listPage(after: string | null, email: string) {
  return app.client.request(UsersDocument, { first: 2, after, email }, { token: adminToken });
}

describe('users connection', () => {
  it('pages through every match once, oldest first, with opaque cursors', async () => {
    const tag = `page${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await registerUser(app, uniqueEmail(tag))).id);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof listPage>> = await listPage(after, tag);
      expect(res.errors).toBeUndefined();
      const connection = res.data!.users;
      seen.push(...connection.edges.map((e) => e.node.id));
      expect(connection.pageInfo.hasPreviousPage).toBe(false);
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor! : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('filters by status and role, and refuses a forged cursor or a page size out of range', async () => {
    const suspended = await registerUser(app, uniqueEmail('filtered'));
    await app.client.request(UpdateUserDocument, { id: suspended.id, input: { status: 'SUSPENDED' } }, { token: adminToken });
    const byStatus = await app.client.request(UsersDocument, { status: 'SUSPENDED', email: suspended.email }, { token: adminToken });
    expect(byStatus.data?.users.edges.map((e) => e.node.id)).toEqual([suspended.id]);
    const active = await app.client.request(UsersDocument, { status: 'ACTIVE', email: suspended.email }, { token: adminToken });
    expect(active.data?.users.edges).toEqual([]);

    const role = await app.client.raw<{ createRole: { id: string } }>(
      {
        query: 'mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }',
        variables: { input: { name: `Team ${uniqueEmail()}` } },
      },
      { token: adminToken },
    );
    const roleId = role.data!.createRole.id;
    const member = await registerUser(app);
    await app.client.request(UpdateUserDocument, { id: member.id, input: { role: roleId } }, { token: adminToken });
    const byRole = await app.client.request(UsersDocument, { roleId }, { token: adminToken });
    expect(byRole.data?.users.edges.map((e) => e.node.id)).toEqual([member.id]);

    for (const variables of [{ after: 'garbage' }, { after: Buffer.from('[1,"x"]').toString('base64url') }, { first: 0 }, { first: 101 }]) {
      const res = await app.client.request(UsersDocument, variables, { token: adminToken });
      expect(res.code).toBe('BAD_USER_INPUT');
    }
  });

  it('shows a user under the default policy only their own record', async () => {
    const user = await registerAndLogin(app);
    await registerUser(app);
    const res = await app.client.request(UsersDocument, { first: 100 }, { token: user.accessToken });
    expect(res.data?.users.edges.map((e) => e.node.id)).toEqual([user.id]);
  });
});

describe('updateUser and deleteUser', () => {
  it('suspending a user ends their sessions at once: access token, refresh token and login all refused', async () => {
    const user = await registerAndLogin(app);
    expect(await viewerCode(user.accessToken)).toBe('OK');
    const res = await app.client.request(UpdateUserDocument, { id: user.id, input: { status: 'SUSPENDED' } }, { token: adminToken });
    expect(res.data?.updateUser.status).toBe('SUSPENDED');
    expect(await viewerCode(user.accessToken)).toBe('INVALID_TOKEN');
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
    const sessions = await app.db.session.findMany({ where: { userId: user.id } });
    expect(sessions.every((s) => s.revokedReason === 'status-suspended')).toBe(true);
    // Back to ACTIVE: they can sign in again.
    await app.client.request(UpdateUserDocument, { id: user.id, input: { status: 'ACTIVE' } }, { token: adminToken });
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('deleting a user refuses their access token at once and keeps the revoked session rows', async () => {
    const user = await registerAndLogin(app);
    const sessionIds = (await app.db.session.findMany({ where: { userId: user.id } })).map((s) => s.id);
    const res = await app.client.request(DeleteUserDocument, { id: user.id }, { token: adminToken });
    expect(res.data?.deleteUser).toBe(true);
    expect(await viewerCode(user.accessToken)).toBe('INVALID_TOKEN');
    expect(await app.db.user.count({ where: { id: user.id } })).toBe(0);
    const rows = await app.db.session.findMany({ where: { id: { in: sessionIds } } });
    expect(rows).toHaveLength(sessionIds.length);
    expect(rows.every((s) => s.userId === null && s.revokedReason === 'user-deleted')).toBe(true);
    expect((await app.client.request(DeleteUserDocument, { id: user.id }, { token: adminToken })).code).toBe('NOT_FOUND');
  });

  it('a password set by an admin ends the user’s sessions and is the one that works', async () => {
    const user = await registerAndLogin(app);
    const password = 'a brand new passphrase';
    const res = await app.client.request(UpdateUserDocument, { id: user.id, input: { password } }, { token: adminToken });
    expect(res.errors).toBeUndefined();
    expect(await viewerCode(user.accessToken)).toBe('INVALID_TOKEN');
    expect((await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).code).toBe('INVALID_CREDENTIALS');
    expect((await app.client.request(LoginDocument, { email: user.email, password })).errors).toBeUndefined();
  });

  it('refuses a taken email, a null status and a policy that does not exist, writing nothing', async () => {
    const a = await registerUser(app);
    const b = await registerUser(app);
    const cases: [UpdateUserInput, string, string | undefined][] = [
      [{ email: b.email.toUpperCase() }, 'EMAIL_TAKEN', undefined],
      [{ status: null }, 'BAD_USER_INPUT', 'status'],
      [{ policies: ['00000000-0000-4000-8000-000000000000'] }, 'BAD_USER_INPUT', 'policies'],
    ];
    for (const [input, code, field] of cases) {
      const res = await app.client.request(UpdateUserDocument, { id: a.id, input }, { token: adminToken });
      expect(res.code).toBe(code);
      if (field) expect(res.errors?.[0]?.extensions?.field).toBe(field);
    }
    expect(await app.db.user.findUniqueOrThrow({ where: { id: a.id } })).toMatchObject({ email: a.email, status: 'ACTIVE' });
  });

  it('applies the update permission’s presets over the input', async () => {
    const editor = await registerAndLogin(app);
    const policy = await createPolicy([
      { resource: 'users', action: 'update', fields: ['firstName', 'lastName'], presets: { lastName: 'Checked' } },
    ]);
    await grant(editor.id, [policy]);
    const target = await registerUser(app);
    const res = await app.client.request(
      UpdateUserDocument,
      { id: target.id, input: { firstName: 'Ann', lastName: 'Mine' } },
      { token: editor.accessToken },
    );
    // The editor cannot read the row back (no users:read beyond their own), but the write happened.
    expect(res.code).toBe('FORBIDDEN');
    expect(await app.db.user.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ firstName: 'Ann', lastName: 'Checked' });
  });
});

describe('admins and the last admin', () => {
  it('a non-admin allowed to update every user cannot touch an admin nor hand out admin access', async () => {
    const manager = await registerAndLogin(app);
    const policy = await createPolicy([
      { resource: 'users', action: 'update', fields: ['*'] },
      { resource: 'users', action: 'read', fields: ['*'] },
    ]);
    await grant(manager.id, [policy]);
    const admin = await app.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
    const touchAdmin = await app.client.request(
      UpdateUserDocument,
      { id: admin.id, input: { status: 'SUSPENDED' } },
      { token: manager.accessToken },
    );
    expect(touchAdmin.code).toBe('FORBIDDEN');
    const adminPolicy = await app.db.policy.findUniqueOrThrow({ where: { name: 'Administrator' } });
    const target = await registerUser(app);
    const escalate = await app.client.request(
      UpdateUserDocument,
      { id: target.id, input: { policies: [adminPolicy.id] } },
      { token: manager.accessToken },
    );
    expect(escalate.code).toBe('FORBIDDEN');
    expect(escalate.errors?.[0]?.extensions?.field).toBe('policies');
    const self = await app.client.request(
      UpdateUserDocument,
      { id: manager.id, input: { policies: [adminPolicy.id] } },
      { token: manager.accessToken },
    );
    expect(self.code).toBe('FORBIDDEN');
    expect(await app.db.userPolicy.count({ where: { policyId: adminPolicy.id, userId: { in: [target.id, manager.id] } } })).toBe(0);
    // An ordinary user it may change.
    const ok = await app.client.request(
      UpdateUserDocument,
      { id: target.id, input: { firstName: 'Changed' } },
      { token: manager.accessToken },
    );
    expect(ok.data?.updateUser.firstName).toBe('Changed');
  });

  it('the last active admin cannot be suspended, demoted or deleted; with a second one they can', async () => {
    // Its own database: other files' admins must not count, and suspending this admin must not lock them out.
    const database = await createIsolatedDatabase();
    const solo = await startTestApp({ DATABASE_URL: database.url });
    try {
      const token = await loginAsAdmin(solo);
      const admin = await solo.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
      for (const input of [{ status: 'SUSPENDED' as const }, { status: 'ARCHIVED' as const }, { policies: [] }]) {
        const res = await solo.client.request(UpdateUserDocument, { id: admin.id, input }, { token });
        expect(res.code).toBe('LAST_ADMIN');
      }
      expect((await solo.client.request(DeleteUserDocument, { id: admin.id }, { token })).code).toBe('LAST_ADMIN');
      expect(await solo.db.user.findUniqueOrThrow({ where: { id: admin.id } })).toMatchObject({ status: 'ACTIVE' });
      // Refused changes ended nothing: the admin's token still works.
      expect((await solo.client.request(ViewerDocument, {}, { token })).errors).toBeUndefined();

      const adminPolicy = await solo.db.policy.findUniqueOrThrow({ where: { name: 'Administrator' } });
      const created = await solo.client.raw<{ createUser: { id: string } }>(
        {
          query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
          variables: { input: { email: uniqueEmail('admin2'), password: TEST_PASSWORD, policies: [adminPolicy.id] } },
        },
        { token },
      );
      expect(created.errors).toBeUndefined();
      const res = await solo.client.request(UpdateUserDocument, { id: admin.id, input: { status: 'SUSPENDED' } }, { token });
      expect(res.data?.updateUser.status).toBe('SUSPENDED');
      // Suspended: their own token is refused from now on.
      const after = await solo.client.request(ViewerDocument, {}, { token });
      expect(after.code).toBe('INVALID_TOKEN');
    } finally {
      await solo.close();
      await database.drop();
    }
  }, 120_000); // builds and migrates a database of its own
});

describe('hostile input', () => {
  it('refuses NUL characters (variables and literals), deep nesting and an empty role id with BAD_USER_INPUT', async () => {
    const user = await registerAndLogin(app);
    const viaVariable = await app.client.request(UsersDocument, { email: 'a\u0000b' }, { token: user.accessToken });
    expect(viaVariable.code).toBe('BAD_USER_INPUT');
    const viaLiteral = await app.client.raw({ query: '{ users(email: "a\\u0000b") { edges { cursor } } }' }, { token: user.accessToken });
    expect(viaLiteral.code).toBe('BAD_USER_INPUT');
    // 30,000 levels, written as text: serialising it would overflow the stack here too.
    const deep = `${'['.repeat(30_000)}"x"${']'.repeat(30_000)}`;
    const query = JSON.stringify('mutation($input: CreatePermissionInput!) { createPermission(input: $input) { id } }');
    const nested = await fetch(app.client.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: `{"query":${query},"variables":{"input":{"presets":${deep}}}}`,
    });
    const nestedBody = (await nested.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(nestedBody.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const emptyRole = await app.client.request(UpdateUserDocument, { id: user.id, input: { role: '' } }, { token: adminToken });
    expect(emptyRole.code).toBe('BAD_USER_INPUT');
    expect(emptyRole.errors?.[0]?.extensions?.field).toBe('role');
  });

  it('a cursor is sealed: it shows nothing and a tampered one is refused', async () => {
    await registerUser(app);
    const page = await app.client.request(UsersDocument, { first: 1 }, { token: adminToken });
    const cursor = page.data!.users.pageInfo.endCursor!;
    expect(Buffer.from(cursor, 'base64url').toString('utf8')).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
    const tampered = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'AB' : 'AA'}`;
    expect((await app.client.request(UsersDocument, { first: 1, after: tampered }, { token: adminToken })).code).toBe('BAD_USER_INPUT');
  });

  it('a non-admin allowed to end every session cannot end an admin’s', async () => {
    const operator = await registerAndLogin(app);
    const policy = await createPolicy([
      { resource: 'sessions', action: 'read', fields: ['*'] },
      { resource: 'sessions', action: 'delete', fields: ['*'] },
    ]);
    await grant(operator.id, [policy]);
    const adminSession = await app.db.session.findFirstOrThrow({
      where: { user: { email: 'admin@gatehouse.test' }, revokedAt: null },
      orderBy: { createdAt: 'desc' },
    });
    const query = 'mutation($id: ID!) { revokeSession(id: $id) }';
    const refused = await app.client.raw({ query, variables: { id: adminSession.id } }, { token: operator.accessToken });
    expect(refused.code).toBe('NOT_FOUND');
    expect((await app.db.session.findUniqueOrThrow({ where: { id: adminSession.id } })).revokedAt).toBeNull();
    // An ordinary user's session it may end.
    const other = await registerAndLogin(app);
    const otherSession = await app.db.session.findFirstOrThrow({ where: { userId: other.id } });
    const ended = await app.client.raw({ query, variables: { id: otherSession.id } }, { token: operator.accessToken });
    expect(ended.errors).toBeUndefined();
    expect(await viewerCode(other.accessToken)).toBe('INVALID_TOKEN');
  });
});

describe('access changes take effect on the next request', () => {
  it('granting and removing a policy changes what an existing access token may do, without a refresh', async () => {
    const user = await registerAndLogin(app);
    const reader = await createPolicy([{ resource: 'users', action: 'read', fields: ['*'] }]);
    const other = await registerUser(app);
    const before = await app.client.request(UsersDocument, { email: other.email }, { token: user.accessToken });
    expect(before.data?.users.edges).toEqual([]);
    await grant(user.id, [reader]);
    const granted = await app.client.request(UsersDocument, { email: other.email }, { token: user.accessToken });
    expect(granted.data?.users.edges.map((e) => e.node.id)).toEqual([other.id]);
    await grant(user.id, []);
    const removed = await app.client.request(UsersDocument, { email: other.email }, { token: user.accessToken });
    expect(removed.data?.users.edges).toEqual([]);
  });

  it('a policy with an IP allow-list applies only to requests from a listed address', async () => {
    const user = await registerAndLogin(app);
    const reader = await createPolicy([{ resource: 'users', action: 'read', fields: ['*'] }], { ipAllowList: ['127.0.0.77/32'] });
    await grant(user.id, [reader]);
    const other = await registerUser(app);
    const body = { query: 'query($email: String) { users(email: $email) { edges { node { id } } } }', variables: { email: other.email } };
    const headers = { authorization: `Bearer ${user.accessToken}` };
    type Edges = { users: { edges: { node: { id: string } }[] } };
    const listed = await postFrom<Edges>(app.client.endpoint, '127.0.0.77', body, headers);
    expect(listed.data?.users.edges.map((e) => e.node.id)).toEqual([other.id]);
    const elsewhere = await postFrom<Edges>(app.client.endpoint, '127.0.0.78', body, headers);
    expect(elsewhere.data?.users.edges).toEqual([]);
  });

  it('refuses an IP allow-list entry that is not an address or CIDR range', async () => {
    const res = await app.client.raw(
      {
        query: 'mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }',
        variables: { input: { name: `Bad ${uniqueEmail()}`, ipAllowList: ['10.0.0.0/33'] } },
      },
      { token: adminToken },
    );
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('ipAllowList');
  });
});
