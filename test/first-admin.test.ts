import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAsAdmin } from './helpers/factories.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { ADMIN_EMAIL, startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// The first administrator (ADMIN_EMAIL, ADMIN_PASSWORD) is created only while nobody holds admin
// access. Whether someone does is decided as authorisation decides it: a direct policy, or a
// role (and its parents) granting one. Restarts happen on a database of this file's own.

let database: IsolatedDatabase;
beforeAll(async () => {
  database = await createIsolatedDatabase();
});
afterAll(() => database?.drop());

async function gql<T = Record<string, unknown>>(app: TestApp, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await app.client.raw<T>({ query, variables }, { token });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data as T;
}

describe('the first administrator on restart', () => {
  it('is not created again when the administrator holds admin access through a parent role and was renamed', async () => {
    const first = await startTestApp({ DATABASE_URL: database.url });
    const renamed = uniqueEmail('root');
    try {
      const token = await loginAsAdmin(first);
      const admin = await first.db.user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL }, select: { id: true } });
      const adminPolicy = await first.db.policy.findFirstOrThrow({ where: { name: 'Administrator' }, select: { id: true } });
      const create = 'mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }';
      const parent = await gql<{ createRole: { id: string } }>(first, token, create, {
        input: { name: 'Super admins', policies: [adminPolicy.id] },
      });
      const child = await gql<{ createRole: { id: string } }>(first, token, create, {
        input: { name: 'Admins', parent: parent.createRole.id },
      });
      await gql(first, token, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
        id: admin.id,
        input: { role: child.createRole.id, policies: [], email: renamed },
      });
      expect(await first.db.userPolicy.count({ where: { userId: admin.id } })).toBe(0);
      expect(
        (
          await first.client.raw({
            query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
            variables: { e: renamed, p: TEST_PASSWORD },
          })
        ).errors,
      ).toBeUndefined();
    } finally {
      await first.close();
    }

    const second = await startTestApp({ DATABASE_URL: database.url });
    try {
      expect(await second.db.user.count({ where: { email: ADMIN_EMAIL } })).toBe(0);
      const login = await second.client.raw({
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        variables: { e: ADMIN_EMAIL, p: TEST_PASSWORD },
      });
      expect(login.code).toBe('INVALID_CREDENTIALS');
    } finally {
      await second.close();
    }
  });
});
