import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogoutDocument, ViewerDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Each instance holds in memory the revocations and access changes recent enough to matter to
// a live access token, reloading them at start for ACCESS_TOKEN_TTL (+ a margin) back. A token
// signed under a longer ACCESS_TOKEN_TTL than the server now runs with could outlive that window:
// such a token must be refused, or a logout or a suspension made before a restart would be
// forgotten. The clock is moved back ten minutes for what happens before the restart (Date only:
// timers run normally), so that the restarted server's one-minute window cannot see it.

const TEN_MINUTES = 10 * 60 * 1000;

let database: IsolatedDatabase;
beforeAll(async () => {
  database = await createIsolatedDatabase();
});
afterAll(() => database?.drop());
afterEach(() => {
  vi.useRealTimers();
});

const viewerCode = async (app: TestApp, token: string) => {
  const res = await app.client.request(ViewerDocument, {}, { token });
  return res.code ?? (res.data?.viewer ? 'OK' : 'ANONYMOUS');
};

async function asAdmin(app: TestApp, token: string, query: string, variables: Record<string, unknown>) {
  const res = await app.client.raw({ query, variables }, { token });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

describe('a restart with a lower ACCESS_TOKEN_TTL', () => {
  it('does not bring back access tokens of sessions ended (logout, suspension) or of access removed before it', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() - TEN_MINUTES);
    const before = await startTestApp({ DATABASE_URL: database.url, ACCESS_TOKEN_TTL: '1h' });
    let loggedOut: string;
    let suspended: string;
    let demoted: string;
    try {
      const admin = await loginAsAdmin(before);
      const adminPolicy = await before.db.policy.findFirstOrThrow({ where: { name: 'Administrator' }, select: { id: true } });
      const update = 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }';

      const a = await registerAndLogin(before);
      await before.client.request(LogoutDocument, { refreshToken: a.refreshToken });
      loggedOut = a.accessToken;

      const b = await registerAndLogin(before);
      await asAdmin(before, admin, update, { id: b.id, input: { status: 'SUSPENDED' } });
      suspended = b.accessToken;

      const c = await registerAndLogin(before);
      await asAdmin(before, admin, update, { id: c.id, input: { policies: [adminPolicy.id] } });
      const login = await before.client.raw<{ login: { accessToken: string } }>({
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        variables: { e: c.email, p: c.password },
      });
      demoted = login.data!.login.accessToken;
      expect((await before.client.raw({ query: '{ users { edges { node { id } } } }' }, { token: demoted })).errors).toBeUndefined();
      await asAdmin(before, admin, update, { id: c.id, input: { policies: [] } });

      for (const token of [loggedOut, suspended]) expect(await viewerCode(before, token)).toBe('INVALID_TOKEN');
      expect((await before.client.raw({ query: '{ users { edges { node { id } } } }' }, { token: demoted })).code).toBe('FORBIDDEN');
    } finally {
      await before.close();
    }

    vi.useRealTimers();
    const after = await startTestApp({ DATABASE_URL: database.url, ACCESS_TOKEN_TTL: '1m' });
    try {
      // Signed ten minutes ago for an hour, so unexpired by their own `exp`; but longer-lived than
      // the current ACCESS_TOKEN_TTL allows, so past it: the client refreshes (and these cannot).
      for (const token of [loggedOut, suspended]) expect(await viewerCode(after, token)).toBe('TOKEN_EXPIRED');
      const users = await after.client.raw({ query: '{ users { edges { node { id } } } }' }, { token: demoted });
      expect(users.data).toBeNull();
      expect(users.code).toBe('TOKEN_EXPIRED');
      const fresh = await registerAndLogin(after);
      expect(await viewerCode(after, fresh.accessToken)).toBe('OK');
    } finally {
      await after.close();
    }
  });
});
