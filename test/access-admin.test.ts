import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessAction,
  type AccessResource,
  CreatePermissionDocument,
  type CreatePermissionInput,
  CreatePolicyDocument,
  type CreatePolicyInput,
  CreateRoleDocument,
  type CreateRoleInput,
  DeletePermissionDocument,
  DeletePolicyDocument,
  DeleteRoleDocument,
  LoginDocument,
  PermissionDocument,
  PermissionsDocument,
  PoliciesDocument,
  PolicyDocument,
  RegisterDocument,
  RoleDocument,
  RolesDocument,
  UpdatePermissionDocument,
  UpdatePolicyDocument,
  UpdateRoleDocument,
  ViewerAccessDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import type { GraphQLResponse } from './helpers/graphql-client.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// These tests edit the public and Administrator policies, which every other test file relies on,
// so they run on a database of their own (one server for the file; tests run in order).
let database: IsolatedDatabase;
let app: TestApp;
let admin: string;
let ids: { public: string; user: string; administrator: string };

beforeAll(async () => {
  database = await createIsolatedDatabase();
  app = await startTestApp({ DATABASE_URL: database.url });
  admin = await loginAsAdmin(app);
  const policies = ok(await asAdmin(PoliciesDocument, {})).policies;
  const byName = (name: string) => policies.find((p) => p.name === name)?.id as string;
  ids = { public: policies.find((p) => p.isPublic)?.id as string, user: byName('User'), administrator: byName('Administrator') };
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const asAdmin = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables) =>
  app.client.request(document, variables, { token: admin });

function ok<T>(res: GraphQLResponse<T>): T {
  expect(res.errors).toBeUndefined();
  return res.data as T;
}

function expectError(res: GraphQLResponse<unknown>, code: string, field?: string) {
  expect(res.code).toBe(code);
  if (field !== undefined) expect(res.errors?.[0]?.extensions?.field).toBe(field);
}

const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

async function createPolicy(input: { name?: string; adminAccess?: boolean } = {}) {
  return ok(await asAdmin(CreatePolicyDocument, { input: { name: unique('Policy'), ...input } })).createPolicy;
}

interface Grant {
  resource: AccessResource;
  action: AccessAction;
  fields?: string[];
  filter?: unknown;
  presets?: unknown;
}

async function grant(policy: string, grants: Grant[]) {
  for (const g of grants) {
    ok(await asAdmin(CreatePermissionDocument, { input: { policy, fields: ['*'], ...g } }));
  }
}

/** A fresh signed-in user created by the admin with the given policies (and the default User policy) and role. */
async function userWith(options: { policies?: string[]; role?: string } = {}) {
  const email = uniqueEmail('access');
  const input = { email, password: TEST_PASSWORD, policies: [ids.user, ...(options.policies ?? [])], role: options.role };
  const created = await asAdmin(RegisterDocument, { input });
  expect(created.errors).toBeUndefined();
  const login = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD, mode: 'JSON' });
  return { id: created.data!.createUser.id, token: login.data!.login.accessToken! };
}

/** A non-admin holding a policy with exactly these permissions (besides the default User policy). */
async function delegate(grants: Grant[]) {
  const policy = await createPolicy({ name: unique('Delegate') });
  await grant(policy.id, grants);
  return { ...(await userWith({ policies: [policy.id] })), policyId: policy.id };
}

describe('roles, policies and permissions as an admin', () => {
  it('creates, reads, lists, updates and deletes a policy', async () => {
    const name = unique('Support');
    const created = ok(
      await asAdmin(CreatePolicyDocument, {
        input: { name: `  ${name} `, description: 'Helpdesk', ipAllowList: ['10.0.0.0/8', '2001:db8::/32', '10.0.0.0/8'] },
      }),
    ).createPolicy;
    expect(created).toMatchObject({ name, description: 'Helpdesk', isPublic: false, adminAccess: false, enforceTwoFactor: false });
    expect(created.ipAllowList).toEqual(['10.0.0.0/8', '2001:db8::/32']);

    expect(ok(await asAdmin(PolicyDocument, { id: created.id })).policy).toMatchObject({
      name,
      permissions: [],
    });
    expect(ok(await asAdmin(PoliciesDocument, {})).policies.map((p) => p.name)).toContain(name);

    const updated = ok(
      await asAdmin(UpdatePolicyDocument, {
        id: created.id,
        input: { name: `${name} 2`, description: null, enforceTwoFactor: true, ipAllowList: [] },
      }),
    ).updatePolicy;
    expect(updated).toMatchObject({ name: `${name} 2`, description: null, enforceTwoFactor: true, ipAllowList: [] });

    expect(ok(await asAdmin(DeletePolicyDocument, { id: created.id })).deletePolicy).toBe(true);
    expect(ok(await asAdmin(PolicyDocument, { id: created.id })).policy).toBeNull();
    expect(await app.db.policy.count({ where: { id: created.id } })).toBe(0);
  });

  it('refuses to delete a policy or a role that a permission preset hands out, keeping registration working', async () => {
    const refused = await asAdmin(DeletePolicyDocument, { id: ids.user });
    expectError(refused, 'BAD_USER_INPUT', 'id');
    expect(await app.db.policy.count({ where: { id: ids.user } })).toBe(1);
    const registered = await app.client.request(RegisterDocument, {
      input: { email: `${randomUUID()}@example.test`, password: TEST_PASSWORD },
    });
    expect(registered.errors).toBeUndefined();

    const role = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Preset role') } })).createRole;
    const policy = await createPolicy();
    await app.db.permission.create({
      data: { policyId: policy.id, resource: 'users', action: 'create', fields: ['*'], presets: { role: role.id } },
    });
    expectError(await asAdmin(DeleteRoleDocument, { id: role.id }), 'BAD_USER_INPUT', 'id');
    expect(await app.db.role.count({ where: { id: role.id } })).toBe(1);
  });

  it('creates a role with a parent and policies, then changes and deletes it', async () => {
    const policy = await createPolicy();
    const parent = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Staff') } })).createRole;
    const name = unique('Editor');
    const role = ok(
      await asAdmin(CreateRoleDocument, {
        input: { name, description: 'Edits things', parent: parent.id, policies: [policy.id, policy.id] },
      }),
    ).createRole;
    expect(role).toMatchObject({
      name,
      description: 'Edits things',
      parent: { id: parent.id, name: parent.name },
      policies: [{ id: policy.id, name: policy.name }],
    });
    expect(ok(await asAdmin(RoleDocument, { id: role.id })).role).toEqual(role);
    const listed = ok(await asAdmin(RolesDocument, {})).roles.map((r) => r.id);
    expect(listed).toEqual(expect.arrayContaining([parent.id, role.id]));

    const updated = ok(
      await asAdmin(UpdateRoleDocument, { id: role.id, input: { parent: null, policies: [], description: null } }),
    ).updateRole;
    expect(updated).toMatchObject({ name, description: null, parent: null, policies: [] });

    expect(ok(await asAdmin(DeleteRoleDocument, { id: role.id })).deleteRole).toBe(true);
    expect(ok(await asAdmin(RoleDocument, { id: role.id })).role).toBeNull();
    expect(await app.db.role.count({ where: { id: role.id } })).toBe(0);
  });

  it('creates, lists, updates and deletes permissions', async () => {
    const policy = await createPolicy();
    const own = { id: { _eq: '$CURRENT_USER' } };
    const read = ok(
      await asAdmin(CreatePermissionDocument, {
        input: { policy: policy.id, resource: 'users', action: 'read', fields: ['id', 'email', 'id'], filter: own },
      }),
    ).createPermission;
    expect(read).toMatchObject({
      policy: { id: policy.id },
      resource: 'users',
      action: 'read',
      fields: ['id', 'email'],
      filter: own,
      presets: null,
    });

    const create = ok(
      await asAdmin(CreatePermissionDocument, {
        input: { policy: policy.id, resource: 'users', action: 'create', fields: ['email', 'password'], presets: { status: 'INVITED' } },
      }),
    ).createPermission;
    expect(create.presets).toEqual({ status: 'INVITED' });
    const remove = ok(
      await asAdmin(CreatePermissionDocument, { input: { policy: policy.id, resource: 'sessions', action: 'delete', fields: ['id'] } }),
    ).createPermission;
    expect(remove.fields).toEqual(['*']);

    const listed = ok(await asAdmin(PermissionsDocument, { policyId: policy.id })).permissions;
    expect(listed.map((p) => p.id).sort()).toEqual([read.id, create.id, remove.id].sort());
    const usersOnly = ok(await asAdmin(PermissionsDocument, { policyId: policy.id, resource: 'users' }));
    expect(usersOnly.permissions).toHaveLength(2);
    expect(ok(await asAdmin(PolicyDocument, { id: policy.id })).policy?.permissions).toHaveLength(3);

    const updated = ok(await asAdmin(UpdatePermissionDocument, { id: read.id, input: { fields: ['*'], filter: null } })).updatePermission;
    expect(updated).toMatchObject({ fields: ['*'], filter: null });
    expect(ok(await asAdmin(PermissionDocument, { id: read.id })).permission?.fields).toEqual(['*']);

    expect(ok(await asAdmin(DeletePermissionDocument, { id: read.id })).deletePermission).toBe(true);
    expect(ok(await asAdmin(PermissionDocument, { id: read.id })).permission).toBeNull();
    expect(ok(await asAdmin(PermissionsDocument, { policyId: policy.id })).permissions).toHaveLength(2);
  });

  it('answers null for ids that name nothing, and NOT_FOUND when changing them', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      expect(ok(await asAdmin(RoleDocument, { id })).role).toBeNull();
      expect(ok(await asAdmin(PolicyDocument, { id })).policy).toBeNull();
      expect(ok(await asAdmin(PermissionDocument, { id })).permission).toBeNull();
      expect(ok(await asAdmin(PermissionsDocument, { policyId: id })).permissions).toEqual([]);
      expectError(await asAdmin(UpdateRoleDocument, { id, input: { name: 'x' } }), 'NOT_FOUND');
      expectError(await asAdmin(DeleteRoleDocument, { id }), 'NOT_FOUND');
      expectError(await asAdmin(UpdatePolicyDocument, { id, input: { name: 'x' } }), 'NOT_FOUND');
      expectError(await asAdmin(DeletePolicyDocument, { id }), 'NOT_FOUND');
      expectError(await asAdmin(UpdatePermissionDocument, { id, input: { fields: [] } }), 'NOT_FOUND');
      expectError(await asAdmin(DeletePermissionDocument, { id }), 'NOT_FOUND');
    }
  });
});

describe('validation', () => {
  const SECRET_MARK = 'zq-marker-zq';
  const createRole = (input: Partial<CreateRoleInput>) => asAdmin(CreateRoleDocument, { input: { name: unique('Role'), ...input } });
  const createPolicyRaw = (input: Partial<CreatePolicyInput>) =>
    asAdmin(CreatePolicyDocument, { input: { name: unique('Policy'), ...input } });
  const createPermission = async (input: Partial<CreatePermissionInput>) => {
    const policy = await createPolicy();
    return asAdmin(CreatePermissionDocument, { input: { policy: policy.id, resource: 'users', action: 'create', ...input } });
  };

  it.each([
    ['an empty role name', () => createRole({ name: '   ' }), 'BAD_USER_INPUT', 'name'],
    ['a role name over 100 characters', () => createRole({ name: SECRET_MARK + 'x'.repeat(100) }), 'BAD_USER_INPUT', 'name'],
    ['a role name with a control character', () => createRole({ name: `${SECRET_MARK}\u0007` }), 'BAD_USER_INPUT', 'name'],
    [
      'a description over 500 characters',
      () => createRole({ description: SECRET_MARK + 'x'.repeat(500) }),
      'BAD_USER_INPUT',
      'description',
    ],
    ['a parent that does not exist', () => createRole({ parent: randomUUID() }), 'BAD_USER_INPUT', 'parent'],
    ['a parent that is not an id', () => createRole({ parent: SECRET_MARK }), 'BAD_USER_INPUT', 'parent'],
    ['a policy that does not exist', () => createRole({ policies: [randomUUID()] }), 'BAD_USER_INPUT', 'policies'],
    ['an IP allow-list entry that is no address', () => createPolicyRaw({ ipAllowList: [SECRET_MARK] }), 'BAD_USER_INPUT', 'ipAllowList'],
    ['a CIDR prefix out of range', () => createPolicyRaw({ ipAllowList: ['10.0.0.0/33'] }), 'BAD_USER_INPUT', 'ipAllowList'],
    [
      'more than 100 allow-list entries',
      () => createPolicyRaw({ ipAllowList: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) }),
      'BAD_USER_INPUT',
      'ipAllowList',
    ],
    ['a permission on a policy that does not exist', () => createPermission({ policy: randomUUID() }), 'BAD_USER_INPUT', 'policy'],
    ['a reserved field', () => createPermission({ action: 'read', fields: ['id', 'passwordHash'] }), 'FORBIDDEN', 'passwordHash'],
    ['an unknown field', () => createPermission({ action: 'read', fields: ['shoeSize'] }), 'FORBIDDEN', 'shoeSize'],
    ['a write-only field in a read permission', () => createPermission({ action: 'read', fields: ['password'] }), 'FORBIDDEN', 'password'],
    [
      'a read-only field in a write permission',
      () => createPermission({ action: 'update', fields: ['createdAt'] }),
      'FORBIDDEN',
      'createdAt',
    ],
    [
      'presets on a read permission',
      () => createPermission({ action: 'read', presets: { status: 'ACTIVE' } }),
      'BAD_USER_INPUT',
      'presets',
    ],
    ['presets that are not an object', () => createPermission({ presets: [SECRET_MARK] }), 'BAD_USER_INPUT', 'presets'],
    ['a preset password', () => createPermission({ presets: { password: SECRET_MARK } }), 'FORBIDDEN', 'password'],
    ['a preset email', () => createPermission({ presets: { email: SECRET_MARK } }), 'FORBIDDEN', 'email'],
    ['a preset of a reserved field', () => createPermission({ presets: { passwordHash: SECRET_MARK } }), 'FORBIDDEN', 'passwordHash'],
    ['a preset status that is no status', () => createPermission({ presets: { status: SECRET_MARK } }), 'BAD_USER_INPUT', 'presets'],
    ['a preset role that does not exist', () => createPermission({ presets: { role: randomUUID() } }), 'BAD_USER_INPUT', 'presets'],
    ['a preset policy that does not exist', () => createPermission({ presets: { policies: [randomUUID()] } }), 'BAD_USER_INPUT', 'presets'],
    ['a preset name that is too long', () => createPermission({ presets: { firstName: 'x'.repeat(101) } }), 'BAD_USER_INPUT', 'presets'],
    ['a filter on a create permission', () => createPermission({ filter: { id: { _eq: '$CURRENT_USER' } } }), 'BAD_USER_INPUT', 'filter'],
    [
      'a filter on a reserved column',
      () => createPermission({ action: 'read', filter: { passwordHash: { _eq: SECRET_MARK } } }),
      'FORBIDDEN',
      'passwordHash',
    ],
    [
      'a filter with an unknown operator',
      () => createPermission({ action: 'read', filter: { email: { _like: SECRET_MARK } } }),
      'BAD_USER_INPUT',
      'filter',
    ],
  ])('refuses %s, naming the field and not echoing the value', async (_label, send, code, field) => {
    const res = await send();
    expectError(res, code, field);
    expect(JSON.stringify(res.errors)).not.toContain(SECRET_MARK);
  });

  it('refuses a duplicate name, in roles and in policies', async () => {
    const role = ok(await createRole({})).createRole;
    expectError(await createRole({ name: ` ${role.name}` }), 'BAD_USER_INPUT', 'name');
    expectError(await createPolicyRaw({ name: 'Administrator' }), 'BAD_USER_INPUT', 'name');
    const other = ok(await createRole({})).createRole;
    const res = await asAdmin(UpdateRoleDocument, { id: other.id, input: { name: role.name } });
    expectError(res, 'BAD_USER_INPUT', 'name');
    expect(JSON.stringify(res.errors)).not.toMatch(/prisma|unique|constraint|P2002/i);
  });

  it('refuses a parent that would make a cycle', async () => {
    const top = ok(await createRole({})).createRole;
    const middle = ok(await createRole({ parent: top.id })).createRole;
    const bottom = ok(await createRole({ parent: middle.id })).createRole;
    expectError(await asAdmin(UpdateRoleDocument, { id: top.id, input: { parent: bottom.id } }), 'BAD_USER_INPUT', 'parent');
    expectError(await asAdmin(UpdateRoleDocument, { id: top.id, input: { parent: top.id } }), 'BAD_USER_INPUT', 'parent');
    expect((await app.db.role.findUnique({ where: { id: top.id } }))?.parentId).toBeNull();
  });

  it('keeps the public policy public, without admin access or two-factor, and undeletable', async () => {
    expectError(await asAdmin(DeletePolicyDocument, { id: ids.public }), 'FORBIDDEN');
    expectError(await asAdmin(UpdatePolicyDocument, { id: ids.public, input: { adminAccess: true } }), 'BAD_USER_INPUT', 'adminAccess');
    expectError(
      await asAdmin(UpdatePolicyDocument, { id: ids.public, input: { enforceTwoFactor: true } }),
      'BAD_USER_INPUT',
      'enforceTwoFactor',
    );
    const raw = await app.client.raw(
      { query: 'mutation($id: ID!) { updatePolicy(id: $id, input: { isPublic: false }) { id } }', variables: { id: ids.public } },
      { token: admin },
    );
    expect(raw.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await app.db.policy.findUnique({ where: { id: ids.public } })).toMatchObject({ isPublic: true, adminAccess: false });
  });
});

describe('callers without the rights', () => {
  const id = randomUUID();
  const operations: [string, (token: string) => Promise<GraphQLResponse<unknown>>][] = [
    ['roles', (token) => app.client.request(RolesDocument, {}, { token })],
    ['role', (token) => app.client.request(RoleDocument, { id }, { token })],
    ['createRole', (token) => app.client.request(CreateRoleDocument, { input: { name: unique('Nope') } }, { token })],
    ['updateRole', (token) => app.client.request(UpdateRoleDocument, { id, input: { name: 'x' } }, { token })],
    ['deleteRole', (token) => app.client.request(DeleteRoleDocument, { id }, { token })],
    ['policies', (token) => app.client.request(PoliciesDocument, {}, { token })],
    ['policy', (token) => app.client.request(PolicyDocument, { id }, { token })],
    ['createPolicy', (token) => app.client.request(CreatePolicyDocument, { input: { name: unique('Nope') } }, { token })],
    ['updatePolicy', (token) => app.client.request(UpdatePolicyDocument, { id, input: { name: 'x' } }, { token })],
    ['deletePolicy', (token) => app.client.request(DeletePolicyDocument, { id }, { token })],
    ['permissions', (token) => app.client.request(PermissionsDocument, {}, { token })],
    ['permission', (token) => app.client.request(PermissionDocument, { id }, { token })],
    [
      'createPermission',
      (token) => app.client.request(CreatePermissionDocument, { input: { policy: id, resource: 'users', action: 'read' } }, { token }),
    ],
    ['updatePermission', (token) => app.client.request(UpdatePermissionDocument, { id, input: { fields: [] } }, { token })],
    ['deletePermission', (token) => app.client.request(DeletePermissionDocument, { id }, { token })],
  ];
  let user: Awaited<ReturnType<typeof registerAndLogin>>;
  beforeAll(async () => {
    user = await registerAndLogin(app);
  });

  it.each(operations)('a signed-in user without permissions gets FORBIDDEN from %s', async (_name, send) => {
    const res = await send(user.accessToken);
    expectError(res, 'FORBIDDEN');
    // Nothing comes back: null data, or the nullable by-id field null next to the error.
    expect(Object.values(res.data ?? {})).toEqual(res.data ? [null] : []);
  });

  it('an anonymous caller gets UNAUTHENTICATED', async () => {
    expectError(await app.client.request(RolesDocument, {}), 'UNAUTHENTICATED');
    expectError(await app.client.request(CreatePolicyDocument, { input: { name: unique('Nope') } }), 'UNAUTHENTICATED');
  });
});

describe('a non-admin who manages access', () => {
  let delegated: Awaited<ReturnType<typeof delegate>>;
  let adminRole: string;
  let adminPermission: string;
  beforeAll(async () => {
    delegated = await delegate([
      { resource: 'policies', action: 'create' },
      { resource: 'policies', action: 'read' },
      { resource: 'policies', action: 'update' },
      { resource: 'policies', action: 'delete' },
      { resource: 'permissions', action: 'create' },
      { resource: 'permissions', action: 'read' },
      { resource: 'permissions', action: 'update' },
      { resource: 'permissions', action: 'delete' },
      { resource: 'roles', action: 'create' },
      { resource: 'roles', action: 'read' },
      { resource: 'roles', action: 'update' },
      { resource: 'roles', action: 'delete' },
    ]);
    adminRole = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Admins'), policies: [ids.administrator] } })).createRole.id;
    adminPermission = ok(
      await asAdmin(CreatePermissionDocument, { input: { policy: ids.administrator, resource: 'sessions', action: 'read' } }),
    ).createPermission.id;
  });
  const as = () => ({ token: delegated.token });

  it('may manage ordinary policies, roles and permissions', async () => {
    const policy = ok(await app.client.request(CreatePolicyDocument, { input: { name: unique('Ordinary') } }, as())).createPolicy;
    const role = ok(
      await app.client.request(CreateRoleDocument, { input: { name: unique('Ordinary'), policies: [policy.id] } }, as()),
    ).createRole;
    const permission = ok(
      await app.client.request(
        CreatePermissionDocument,
        { input: { policy: policy.id, resource: 'users', action: 'read', fields: ['id'] } },
        as(),
      ),
    ).createPermission;
    ok(await app.client.request(DeletePermissionDocument, { id: permission.id }, as()));
    ok(await app.client.request(DeleteRoleDocument, { id: role.id }, as()));
    ok(await app.client.request(DeletePolicyDocument, { id: policy.id }, as()));
  });

  it('cannot give a policy admin access', async () => {
    const name = unique('Escalate');
    expectError(await app.client.request(CreatePolicyDocument, { input: { name, adminAccess: true } }, as()), 'FORBIDDEN', 'adminAccess');
    expect(await app.db.policy.count({ where: { name } })).toBe(0);
    expectError(
      await app.client.request(UpdatePolicyDocument, { id: delegated.policyId, input: { adminAccess: true } }, as()),
      'FORBIDDEN',
      'adminAccess',
    );
    expect((await app.db.policy.findUnique({ where: { id: delegated.policyId } }))?.adminAccess).toBe(false);
  });

  it('cannot edit or delete the admin policy, or change its permissions', async () => {
    expectError(
      await app.client.request(UpdatePolicyDocument, { id: ids.administrator, input: { description: 'mine' } }, as()),
      'FORBIDDEN',
    );
    expectError(await app.client.request(DeletePolicyDocument, { id: ids.administrator }, as()), 'FORBIDDEN');
    expectError(
      await app.client.request(CreatePermissionDocument, { input: { policy: ids.administrator, resource: 'users', action: 'read' } }, as()),
      'FORBIDDEN',
      'policy',
    );
    expectError(await app.client.request(UpdatePermissionDocument, { id: adminPermission, input: { fields: ['id'] } }, as()), 'FORBIDDEN');
    expectError(await app.client.request(DeletePermissionDocument, { id: adminPermission }, as()), 'FORBIDDEN');
    expect(await app.db.policy.findUnique({ where: { id: ids.administrator } })).toMatchObject({
      adminAccess: true,
      description: 'Full access.',
    });
  });

  it('cannot save presets that hand out admin access', async () => {
    expectError(
      await app.client.request(
        CreatePermissionDocument,
        { input: { policy: delegated.policyId, resource: 'users', action: 'create', presets: { policies: [ids.administrator] } } },
        as(),
      ),
      'FORBIDDEN',
      'policies',
    );
    expectError(
      await app.client.request(
        CreatePermissionDocument,
        { input: { policy: delegated.policyId, resource: 'users', action: 'update', presets: { role: adminRole } } },
        as(),
      ),
      'FORBIDDEN',
      'role',
    );
    expectError(
      await app.client.request(
        CreatePermissionDocument,
        { input: { policy: delegated.policyId, resource: 'policies', action: 'create', presets: { adminAccess: true } } },
        as(),
      ),
      'FORBIDDEN',
      'adminAccess',
    );
  });

  it('cannot put admin access on a role, or touch a role that has it', async () => {
    expectError(
      await app.client.request(CreateRoleDocument, { input: { name: unique('Sneaky'), policies: [ids.administrator] } }, as()),
      'FORBIDDEN',
      'policies',
    );
    expectError(
      await app.client.request(CreateRoleDocument, { input: { name: unique('Sneaky'), parent: adminRole } }, as()),
      'FORBIDDEN',
      'parent',
    );
    const own = ok(await app.client.request(CreateRoleDocument, { input: { name: unique('Own') } }, as())).createRole;
    expectError(await app.client.request(UpdateRoleDocument, { id: own.id, input: { parent: adminRole } }, as()), 'FORBIDDEN', 'parent');
    expectError(await app.client.request(UpdateRoleDocument, { id: adminRole, input: { description: 'mine' } }, as()), 'FORBIDDEN');
    expectError(await app.client.request(DeleteRoleDocument, { id: adminRole }, as()), 'FORBIDDEN');
    expect(await app.db.role.count({ where: { id: adminRole } })).toBe(1);
  });

  it('is held to the fields and row filters of their permissions', async () => {
    const mine = await createPolicy({ name: unique('Mine') });
    const other = await createPolicy({ name: unique('Other') });
    const limited = await delegate([
      { resource: 'policies', action: 'read', fields: ['id', 'name'], filter: { name: { _eq: mine.name } } },
      { resource: 'policies', action: 'update', fields: ['description'], filter: { name: { _eq: mine.name } } },
    ]);
    const token = { token: limited.token };
    const listed = await app.client.raw<{ policies: { id: string; name: string }[] }>({ query: '{ policies { id name } }' }, token);
    expect(listed.data?.policies).toEqual([{ id: mine.id, name: mine.name }]);
    const hidden = await app.client.raw<{ policy: unknown }>({ query: `{ policy(id: "${other.id}") { id } }` }, token);
    expect(hidden.data?.policy).toBeNull();
    expectError(await app.client.request(PolicyDocument, { id: mine.id }, token), 'FORBIDDEN'); // description is not readable

    expectError(await app.client.request(UpdatePolicyDocument, { id: mine.id, input: { name: 'renamed' } }, token), 'FORBIDDEN', 'name');
    expectError(await app.client.request(UpdatePolicyDocument, { id: other.id, input: { description: 'x' } }, token), 'NOT_FOUND');
    const updated = await app.client.raw(
      { query: 'mutation($id: ID!) { updatePolicy(id: $id, input: { description: "Ours" }) { id } }', variables: { id: mine.id } },
      token,
    );
    expect(updated.errors).toBeUndefined();
    expect((await app.db.policy.findUnique({ where: { id: mine.id } }))?.description).toBe('Ours');
  });
});

describe('the last administrator', () => {
  it('cannot lose admin access by deleting or demoting the Administrator policy', async () => {
    expectError(await asAdmin(DeletePolicyDocument, { id: ids.administrator }), 'LAST_ADMIN');
    expectError(await asAdmin(UpdatePolicyDocument, { id: ids.administrator, input: { adminAccess: false } }), 'LAST_ADMIN');
    expect(await app.db.policy.findUnique({ where: { id: ids.administrator } })).toMatchObject({ adminAccess: true });
    expect(ok(await asAdmin(RolesDocument, {})).roles).toBeInstanceOf(Array);
  });
});

describe('changes count from the next request', () => {
  it('Directus quickstart: opening registration to firstName, then presetting a role, by configuration alone', async () => {
    const permissions = ok(await asAdmin(PermissionsDocument, { policyId: ids.public, resource: 'users' }));
    const registration = permissions.permissions.find((p) => p.action === 'create');
    expect(registration).toMatchObject({ fields: ['email', 'password'], presets: { policies: [ids.user] } });
    const register = (firstName: string) =>
      app.client.request(RegisterDocument, { input: { email: uniqueEmail('quickstart'), password: TEST_PASSWORD, firstName } });
    try {
      expectError(await register('Ada'), 'FORBIDDEN', 'firstName');

      ok(await asAdmin(UpdatePermissionDocument, { id: registration!.id, input: { fields: ['email', 'password', 'firstName'] } }));
      const opened = await register('Ada');
      expect(opened.errors).toBeUndefined();
      const ada = await app.db.user.findUniqueOrThrow({ where: { id: opened.data!.createUser.id }, include: { policies: true } });
      expect(ada).toMatchObject({ firstName: 'Ada', roleId: null });
      expect(ada.policies.map((p) => p.policyId)).toEqual([ids.user]);

      const member = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Member') } })).createRole;
      ok(await asAdmin(UpdatePermissionDocument, { id: registration!.id, input: { presets: { policies: [ids.user], role: member.id } } }));
      const preset = await register('Grace');
      expect(preset.errors).toBeUndefined();
      expect(await app.db.user.findUniqueOrThrow({ where: { id: preset.data!.createUser.id } })).toMatchObject({
        firstName: 'Grace',
        roleId: member.id,
      });
    } finally {
      await asAdmin(UpdatePermissionDocument, {
        id: registration!.id,
        input: { fields: ['email', 'password'], presets: { policies: [ids.user] } },
      });
    }
    expectError(await register('Eve'), 'FORBIDDEN', 'firstName');
  });

  it('a role change reaches its users (and those of roles below it) with the access tokens they already hold', async () => {
    const reader = await createPolicy({ name: unique('Role reader') });
    await grant(reader.id, [{ resource: 'roles', action: 'read' }]);
    const role = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Team') } })).createRole;
    const child = ok(await asAdmin(CreateRoleDocument, { input: { name: unique('Sub-team'), parent: role.id } })).createRole;
    const member = await userWith({ role: role.id });
    const subMember = await userWith({ role: child.id });

    for (const user of [member, subMember]) {
      expectError(await app.client.request(RolesDocument, {}, { token: user.token }), 'FORBIDDEN');
      // Their own record shows the role field, but roles themselves are not readable yet.
      expect(ok(await app.client.request(ViewerAccessDocument, {}, { token: user.token })).viewer?.role).toBeNull();
    }

    ok(await asAdmin(UpdateRoleDocument, { id: role.id, input: { policies: [reader.id] } }));
    for (const user of [member, subMember]) {
      const roles = ok(await app.client.request(RolesDocument, {}, { token: user.token })).roles.map((r) => r.id);
      expect(roles).toEqual(expect.arrayContaining([role.id, child.id]));
    }
    expect(ok(await app.client.request(ViewerAccessDocument, {}, { token: member.token })).viewer?.role).toEqual({
      id: role.id,
      name: role.name,
    });

    ok(await asAdmin(DeleteRoleDocument, { id: role.id }));
    for (const user of [member, subMember]) expectError(await app.client.request(RolesDocument, {}, { token: user.token }), 'FORBIDDEN');
  });

  it("a user's direct policies show on their record; renaming one keeps it, deleting it ends what it granted", async () => {
    const reader = await createPolicy({ name: unique('Policy reader') });
    await grant(reader.id, [{ resource: 'policies', action: 'read' }]);
    const user = await userWith({ policies: [reader.id] });
    const viewer = ok(await app.client.request(ViewerAccessDocument, {}, { token: user.token })).viewer;
    expect(viewer?.policies.map((p) => p.name).sort()).toEqual([reader.name, 'User'].sort());

    // The access token names the policy it was issued with: after a rename it must still speak for the user.
    const renamed = unique('Renamed reader');
    ok(await asAdmin(UpdatePolicyDocument, { id: reader.id, input: { name: renamed } }));
    expect(ok(await app.client.request(PoliciesDocument, {}, { token: user.token })).policies.map((p) => p.name)).toContain(renamed);

    ok(await asAdmin(DeletePolicyDocument, { id: reader.id }));
    expectError(await app.client.request(PoliciesDocument, {}, { token: user.token }), 'FORBIDDEN');
  });
});
