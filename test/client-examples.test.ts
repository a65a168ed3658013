import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatehouseApollo } from '../examples/apollo-client/gatehouse-apollo.ts';
import { runApolloExample } from '../examples/apollo-client/main.ts';
import { createGatehouseUrql } from '../examples/urql/gatehouse-urql.ts';
import { runUrqlExample } from '../examples/urql/main.ts';
import { RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { type Exchange, recordingFetch } from './helpers/recording-fetch.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// The README's client recipes, run as they are against a real server whose access tokens live
// 3 seconds, so the refresh happens within the test. Its own database: one test withdraws the
// signing keys, which would break the tokens of every other test file on a shared one.

let database: IsolatedDatabase;
let app: TestApp;
let endpoint: string;
beforeAll(async () => {
  database = await createIsolatedDatabase();
  app = await startTestApp({ DATABASE_URL: database.url, ACCESS_TOKEN_TTL: '3s' });
  endpoint = `${app.url}/graphql`;
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const tokensIn = (exchanges: Exchange[], field: 'login' | 'refresh') =>
  exchanges.flatMap((e) => {
    const payload = e.response.data?.[field] as { accessToken?: string; refreshToken?: string } | undefined;
    return payload?.accessToken ? [{ accessToken: payload.accessToken, refreshToken: payload.refreshToken ?? '' }] : [];
  });

/** The last tokens the client was handed must be dead after its logout. */
async function expectRevoked(exchanges: Exchange[]) {
  const last = [...tokensIn(exchanges, 'login'), ...tokensIn(exchanges, 'refresh')].at(-1);
  expect(last).toBeDefined();
  const viewer = await app.client.request(ViewerDocument, {}, { token: last?.accessToken });
  expect(viewer.code).toBe('INVALID_TOKEN');
  const refresh = await app.client.request(RefreshDocument, { refreshToken: last?.refreshToken });
  expect(refresh.code).toBe('INVALID_TOKEN');
}

describe('Apollo Client recipe (examples/apollo-client)', () => {
  it('registers, logs in, reads viewer, refreshes on TOKEN_EXPIRED, logs out; operations go as persisted-query hashes first', async () => {
    const wire = recordingFetch();
    const email = uniqueEmail('apollo');
    const result = await runApolloExample({ url: endpoint, email, password: TEST_PASSWORD, fetch: wire.fetch });

    expect(result).toMatchObject({ email, emailAfterExpiry: email, signedInAfterLogout: false });
    expect(result.refreshes).toBeGreaterThanOrEqual(1);
    const trace = wire.trace();
    // The error link's path: the expired token is refused, refreshed, and the query retried.
    expect(trace).toContain('POST Viewer(hash) -> TOKEN_EXPIRED');
    const expired = trace.lastIndexOf('POST Viewer(hash) -> TOKEN_EXPIRED');
    expect(trace.slice(expired + 1).filter((t) => !t.includes('PERSISTED_QUERY_NOT_FOUND'))).toEqual([
      'POST Refresh',
      'POST Viewer(hash)',
      'POST Logout',
    ]);
    // Automatic persisted queries: an unknown hash, then the full document; later the hash alone.
    expect(trace.slice(0, 6)).toEqual([
      'POST Register(hash) -> PERSISTED_QUERY_NOT_FOUND',
      'POST Register',
      'POST Login(hash) -> PERSISTED_QUERY_NOT_FOUND',
      'POST Login',
      'POST Viewer(hash) -> PERSISTED_QUERY_NOT_FOUND',
      'POST Viewer',
    ]);
    await expectRevoked(wire.exchanges);
  });
});

describe('urql recipe (examples/urql)', () => {
  it('registers, logs in, reads viewer, refreshes before the token is due (willAuthError), logs out', async () => {
    const wire = recordingFetch();
    const email = uniqueEmail('urql');
    const result = await runUrqlExample({ url: endpoint, email, password: TEST_PASSWORD, fetch: wire.fetch });

    expect(result).toEqual({ email, emailAfterExpiry: email, refreshes: 1, signedInAfterLogout: false });
    // urql's defaults: queries as GET (with the bearer header), mutations as POST; the refresh
    // went out before the query, so the server never had to refuse an expired token.
    expect(wire.trace()).toEqual(['POST Register', 'POST Login', 'GET Viewer', 'POST Refresh', 'GET Viewer', 'POST Logout']);
    const gets = wire.exchanges.filter((e) => e.method === 'GET');
    for (const get of gets) expect(get.headers.get('authorization')).toMatch(/^Bearer /);
    await expectRevoked(wire.exchanges);
  });
});

describe('both recipes, when the server refuses a token the client still holds', () => {
  async function signedIn() {
    const apolloWire = recordingFetch();
    const urqlWire = recordingFetch();
    const apollo = createGatehouseApollo({ url: endpoint, fetch: apolloWire.fetch });
    const urql = createGatehouseUrql({ url: endpoint, fetch: urqlWire.fetch });
    const [apolloEmail, urqlEmail] = [uniqueEmail('apollo'), uniqueEmail('urql')];
    await Promise.all([apollo.register(apolloEmail, TEST_PASSWORD), urql.register(urqlEmail, TEST_PASSWORD)]);
    await Promise.all([apollo.login(apolloEmail, TEST_PASSWORD), urql.login(urqlEmail, TEST_PASSWORD)]);
    return { apollo, urql, apolloWire, urqlWire, apolloEmail, urqlEmail };
  }

  it('INVALID_TOKEN after the signing keys were withdrawn (keys:rotate --compromised): one refresh, and on they go', async () => {
    const { apollo, urql, apolloWire, urqlWire, apolloEmail, urqlEmail } = await signedIn();
    await app.services.signingKeys.rotate({ distrustOthers: true });

    expect((await apollo.viewer())?.email).toBe(apolloEmail);
    expect((await urql.viewer())?.email).toBe(urqlEmail);
    expect([apollo.refreshes, urql.refreshes]).toEqual([1, 1]);
    expect(apolloWire.trace()).toContain('POST Viewer(hash) -> INVALID_TOKEN');
    // urql's didAuthError: the refused query, a refresh, the same query again.
    expect(urqlWire.trace().slice(-3)).toEqual(['GET Viewer -> INVALID_TOKEN', 'POST Refresh', 'GET Viewer']);
  });

  it('a session ended elsewhere (revoked): the refresh is refused too, and the client is signed out', async () => {
    const { apollo, urql, apolloEmail, urqlEmail } = await signedIn();
    for (const email of [apolloEmail, urqlEmail]) {
      const user = await app.db.user.findUniqueOrThrow({ where: { email } });
      await app.services.sessions.revokeUserSessions(user.id, 'admin');
    }
    // Apollo rethrows the operation's INVALID_TOKEN; urql fails it with the refresh's.
    await expect(apollo.viewer()).rejects.toMatchObject({ errors: [{ extensions: { code: 'INVALID_TOKEN' } }] });
    await expect(urql.viewer()).rejects.toMatchObject({ networkError: { graphQLErrors: [{ extensions: { code: 'INVALID_TOKEN' } }] } });
    expect([apollo.signedIn, urql.signedIn, apollo.refreshes, urql.refreshes]).toEqual([false, false, 0, 0]);
  });
});
