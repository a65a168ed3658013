import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteUserDocument,
  LoginDocument,
  RegisterDocument,
  UpdateUserDocument,
  UserByIdDocument,
  UserSessionsDocument,
  UsersDocument,
  ViewerDocument,
} from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import type { GraphQLResponse } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Each access combination against each operation and field, with the exact outcome:
// - public: anonymous, under the default Public policy (registration with email and password only);
// - user: a registered user under the default User policy (their own record, sessions and names);
// - support: a registered user who also holds a custom "Support" policy that reads every user
//   (and their sessions) but updates nobody;
// - admin: the first administrator.
// Outcomes: 'ok' (data, no errors), 'null' (no errors, the field is null: outside the row filter)
// or an error code.

type ActorName = 'public' | 'user' | 'support' | 'admin';
type Outcome = 'ok' | 'null' | string;

interface Actor {
  token?: string;
  id?: string;
  sessionId?: string;
}

interface Fixture {
  actors: Record<ActorName, Actor>;
  /** A fresh ordinary user per case, so writes do not interfere. */
  target(): Promise<{ id: string; email: string; sessionId: string }>;
}

interface Case {
  name: string;
  run(app: TestApp, actor: Actor, fixture: Fixture): Promise<GraphQLResponse<unknown>>;
  /** Where the data's outcome is read: the top-level field. */
  field: string;
  expected: Record<ActorName, Outcome>;
}

let app: TestApp;
let fixture: Fixture;

async function gql(token: string, query: string, variables: Record<string, unknown>) {
  const res = await app.client.raw({ query, variables }, { token });
  if (res.errors) throw new Error(`set-up failed: ${JSON.stringify(res.errors)}`);
  return res.data as Record<string, { id: string }>;
}

async function loginActor(email: string): Promise<Actor> {
  const res = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD, mode: 'JSON' });
  const login = res.data?.login;
  if (!login?.accessToken) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
  const session = await app.db.session.findFirstOrThrow({ where: { user: { email } }, orderBy: { createdAt: 'desc' } });
  return { token: login.accessToken, id: login.user.id, sessionId: session.id };
}

beforeAll(async () => {
  app = await startTestApp();
  const adminToken = await loginAsAdmin(app);
  // The custom policy goes through the admin API, as an operator would create it.
  const policy = await gql(adminToken, 'mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }', {
    input: { name: `Support ${uniqueEmail()}`, description: 'Reads every user; changes nobody.' },
  });
  const policyId = policy.createPolicy?.id as string;
  for (const [resource, fields] of [
    ['users', ['*']],
    ['sessions', ['*']],
  ] as const) {
    await gql(adminToken, 'mutation($input: CreatePermissionInput!) { createPermission(input: $input) { id } }', {
      input: { policy: policyId, resource, action: 'read', fields },
    });
  }
  const user = await registerUser(app);
  const support = await registerUser(app);
  const userPolicy = await app.db.policy.findUniqueOrThrow({ where: { name: 'User' } });
  await gql(adminToken, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
    id: support.id,
    input: { policies: [userPolicy.id, policyId] },
  });
  const admin = await app.db.user.findFirstOrThrow({ where: { email: 'admin@gatehouse.test' } });
  fixture = {
    actors: {
      public: {},
      user: await loginActor(user.email),
      support: await loginActor(support.email),
      admin: { ...(await loginActor(admin.email)), id: admin.id },
    },
    target: async () => {
      const target = await registerAndLogin(app);
      const session = await app.db.session.findFirstOrThrow({ where: { userId: target.id } });
      return { id: target.id, email: target.email, sessionId: session.id };
    },
  };
});

afterAll(async () => {
  await app?.close();
});

const cases: Case[] = [
  {
    name: 'viewer { id email }',
    field: 'viewer',
    run: (app, a) => app.client.request(ViewerDocument, {}, { token: a.token }),
    expected: { public: 'null', user: 'ok', support: 'ok', admin: 'ok' },
  },
  {
    name: 'users(first) { edges { node { id email status } } }',
    field: 'users',
    run: (app, a) => app.client.request(UsersDocument, { first: 5 }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'ok', support: 'ok', admin: 'ok' },
  },
  {
    name: 'user(id) of someone else: id, email, firstName, status',
    field: 'user',
    run: async (app, a, f) => app.client.request(UserByIdDocument, { id: (await f.target()).id }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'null', support: 'ok', admin: 'ok' },
  },
  {
    name: 'user(id) of oneself',
    field: 'user',
    run: (app, a) => app.client.request(UserByIdDocument, { id: a.id ?? '00000000-0000-4000-8000-000000000000' }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'ok', support: 'ok', admin: 'ok' },
  },
  {
    name: 'user(id) { sessions } of someone else',
    field: 'user',
    run: async (app, a, f) => app.client.request(UserSessionsDocument, { id: (await f.target()).id }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'null', support: 'ok', admin: 'ok' },
  },
  {
    name: 'createUser with email and password',
    field: 'createUser',
    run: (app, a) =>
      app.client.request(RegisterDocument, { input: { email: uniqueEmail('table'), password: TEST_PASSWORD } }, { token: a.token }),
    expected: { public: 'ok', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'createUser with firstName',
    field: 'createUser',
    run: (app, a) =>
      app.client.request(
        RegisterDocument,
        { input: { email: uniqueEmail('table'), password: TEST_PASSWORD, firstName: 'Ann' } },
        { token: a.token },
      ),
    expected: { public: 'FORBIDDEN', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'updateUser(firstName) of someone else',
    field: 'updateUser',
    run: async (app, a, f) =>
      app.client.request(UpdateUserDocument, { id: (await f.target()).id, input: { firstName: 'Zed' } }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'NOT_FOUND', support: 'NOT_FOUND', admin: 'ok' },
  },
  {
    name: 'updateUser(firstName) of oneself',
    field: 'updateUser',
    run: (app, a) =>
      app.client.request(
        UpdateUserDocument,
        { id: a.id ?? '00000000-0000-4000-8000-000000000000', input: { firstName: 'Me' } },
        { token: a.token },
      ),
    expected: { public: 'UNAUTHENTICATED', user: 'ok', support: 'ok', admin: 'ok' },
  },
  {
    name: 'updateUser(status) of oneself',
    field: 'updateUser',
    run: (app, a) =>
      app.client.request(
        UpdateUserDocument,
        { id: a.id ?? '00000000-0000-4000-8000-000000000000', input: { status: 'ACTIVE' } },
        { token: a.token },
      ),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'updateUser(status: SUSPENDED) of someone else',
    field: 'updateUser',
    run: async (app, a, f) =>
      app.client.request(UpdateUserDocument, { id: (await f.target()).id, input: { status: 'SUSPENDED' } }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'NOT_FOUND', support: 'NOT_FOUND', admin: 'ok' },
  },
  {
    name: 'deleteUser of someone else',
    field: 'deleteUser',
    run: async (app, a, f) => app.client.request(DeleteUserDocument, { id: (await f.target()).id }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'revokeSession of someone else',
    field: 'revokeSession',
    run: async (app, a, f) =>
      app.client.raw(
        { query: 'mutation($id: ID!) { revokeSession(id: $id) }', variables: { id: (await f.target()).sessionId } },
        { token: a.token },
      ),
    expected: { public: 'UNAUTHENTICATED', user: 'NOT_FOUND', support: 'NOT_FOUND', admin: 'ok' },
  },
  {
    name: 'roles { id name }',
    field: 'roles',
    run: (app, a) => app.client.raw({ query: '{ roles { id name } }' }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'policies { id name adminAccess }',
    field: 'policies',
    run: (app, a) => app.client.raw({ query: '{ policies { id name adminAccess } }' }, { token: a.token }),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'createPolicy',
    field: 'createPolicy',
    run: (app, a) =>
      app.client.raw(
        {
          query: 'mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }',
          variables: { input: { name: `P ${uniqueEmail()}` } },
        },
        { token: a.token },
      ),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
  {
    name: 'createRole',
    field: 'createRole',
    run: (app, a) =>
      app.client.raw(
        {
          query: 'mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }',
          variables: { input: { name: `R ${uniqueEmail()}` } },
        },
        { token: a.token },
      ),
    expected: { public: 'UNAUTHENTICATED', user: 'FORBIDDEN', support: 'FORBIDDEN', admin: 'ok' },
  },
];

function outcomeOf(res: GraphQLResponse<unknown>, field: string): Outcome {
  if (res.errors?.length) return res.code ?? 'NO_CODE';
  const value = (res.data as Record<string, unknown> | null)?.[field];
  return value === null || value === undefined ? 'null' : 'ok';
}

describe('access by policy: every actor against every operation', () => {
  for (const c of cases) {
    for (const actorName of ['public', 'user', 'support', 'admin'] as const) {
      it(`${actorName}: ${c.name} → ${c.expected[actorName]}`, async () => {
        const res = await c.run(app, fixture.actors[actorName], fixture);
        expect(outcomeOf(res, c.field), JSON.stringify(res.errors ?? res.data)).toBe(c.expected[actorName]);
      });
    }
  }
});

describe('field-level reads', () => {
  it('the public reads nothing of a user; a user reads their own email but not others’ rows; support reads everyone', async () => {
    const target = await fixture.target();
    const query = 'query($id: ID!) { user(id: $id) { email } }';
    const pub = await app.client.raw({ query, variables: { id: target.id } });
    expect(pub.code).toBe('UNAUTHENTICATED');
    const support = await app.client.raw<{ user: { email: string } }>(
      { query, variables: { id: target.id } },
      { token: fixture.actors.support.token },
    );
    expect(support.data?.user.email).toBe(target.email);
  });

  it('a users:read permission naming only some fields shows those and refuses the rest with FORBIDDEN', async () => {
    const adminToken = fixture.actors.admin.token as string;
    const policy = await gql(adminToken, 'mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }', {
      input: { name: `Directory ${uniqueEmail()}` },
    });
    await gql(adminToken, 'mutation($input: CreatePermissionInput!) { createPermission(input: $input) { id } }', {
      input: { policy: policy.createPolicy?.id, resource: 'users', action: 'read', fields: ['id', 'firstName'] },
    });
    const reader = await registerUser(app);
    await gql(adminToken, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
      id: reader.id,
      input: { policies: [policy.createPolicy?.id] },
    });
    const token = (await loginActor(reader.email)).token;
    const target = await fixture.target();
    const ok = await app.client.raw<{ user: { id: string; firstName: string | null } }>(
      { query: 'query($id: ID!) { user(id: $id) { id firstName } }', variables: { id: target.id } },
      { token },
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.user.id).toBe(target.id);
    const denied = await app.client.raw(
      { query: 'query($id: ID!) { user(id: $id) { id email } }', variables: { id: target.id } },
      { token },
    );
    expect(denied.code).toBe('FORBIDDEN');
    expect(denied.errors?.[0]?.path).toEqual(['user', 'email']);
    // Searching by a column is reading it: the email filter finds nothing through this permission.
    const search = await app.client.request(UsersDocument, { email: target.email }, { token });
    expect(search.data?.users.edges).toEqual([]);
  });
});
