import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { cacheExchange, createClient, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin, registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// Issue #11: real clients, as their users configure them by default, against the real server.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

interface Sent {
  method: string;
  url: string;
  body: Record<string, unknown> | null;
  status: number;
}

/** fetch, recording what each request was and how it was answered. */
function recordingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const text = request.method === 'POST' ? await request.clone().text() : '';
    const response = await fetch(request);
    sent.push({ method: request.method, url: request.url, body: text ? JSON.parse(text) : null, status: response.status });
    return response;
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe("urql's default client", () => {
  it('runs a bearer viewer query as GET, unchanged', async () => {
    const user = await registerAndLogin(app);
    const sent: Sent[] = [];
    const client = createClient({
      url: `${app.url}/graphql`,
      exchanges: [cacheExchange, fetchExchange],
      fetch: recordingFetch(sent),
      fetchOptions: () => ({ headers: { authorization: `Bearer ${user.accessToken}` } }),
    });
    const result = await client.query(ViewerDocument, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.viewer?.id).toBe(user.id);
    expect(sent.map((s) => [s.method, s.status])).toEqual([['GET', 200]]);
  });

  it('is refused with CSRF_REJECTED, readable by the client, when a GET carries only cookies', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const session = findCookie(login, app.config.cookies.sessionName)!;
    const client = createClient({
      url: `${app.url}/graphql`,
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: () => ({ headers: { cookie: `${session.name}=${session.value}` } }),
    });
    const refused = await client.query(ViewerDocument, {}).toPromise();
    expect(refused.data).toBeUndefined();
    expect(refused.error?.graphQLErrors[0]?.extensions.code).toBe('CSRF_REJECTED');

    // The documented remedy for cookie clients: a CSRF-prevention header.
    const withHeader = createClient({
      url: `${app.url}/graphql`,
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: () => ({ headers: { cookie: `${session.name}=${session.value}`, 'x-graphql-csrf': '1' } }),
    });
    expect((await withHeader.query(ViewerDocument, {}).toPromise()).data?.viewer?.id).toBe(user.id);
  });
});

describe("Apollo Client's persisted-query link (APQ)", () => {
  const apollo = (sent: Sent[], token: string) =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        new PersistedQueryLink({ sha256 }),
        new HttpLink({ uri: `${app.url}/graphql`, fetch: recordingFetch(sent), headers: { authorization: `Bearer ${token}` } }),
      ]),
    });

  it('sends the hash first, the document on PERSISTED_QUERY_NOT_FOUND, then the hash alone', async () => {
    const user = await registerAndLogin(app);
    const document = gql`
      query ApqViewer {
        viewer {
          id
        }
      }
    `;
    const first: Sent[] = [];
    const result = await apollo(first, user.accessToken).query({ query: document });
    expect((result.data as { viewer: { id: string } }).viewer.id).toBe(user.id);
    expect(first).toHaveLength(2);
    expect(first[0]?.body?.query).toBeUndefined();
    const sentQuery = first[1]?.body?.query as string;
    expect(sentQuery).toContain('query ApqViewer');
    expect(first[0]?.body?.extensions).toMatchObject({ persistedQuery: { version: 1, sha256Hash: sha256(sentQuery) } });
    expect(first[0]?.status).toBe(404);
    expect(first[1]?.body?.extensions).toMatchObject({ persistedQuery: { version: 1, sha256Hash: sha256(sentQuery) } });
    expect(first[1]?.status).toBe(200);

    // Another client (a new page load) is served from the hash alone.
    const second: Sent[] = [];
    const again = await apollo(second, user.accessToken).query({ query: document });
    expect((again.data as { viewer: { id: string } }).viewer.id).toBe(user.id);
    expect(second.map((s) => [s.body?.query, s.status])).toEqual([[undefined, 200]]);
  });
});

const post = (target: TestApp, body: string, headers: Record<string, string> = {}) =>
  fetch(`${target.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const codeOf = async (res: Response) => ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;

describe('APQ protocol', () => {
  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND and refuses a hash that is not the document’s', async () => {
    const hashOnly = JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ nothing }') } } });
    const res = await post(app, hashOnly);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
    });

    const query = '{ __typename }';
    const mismatch = await post(
      app,
      JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ viewer { id } }') } } }),
    );
    expect(mismatch.status).toBe(400);
    expect(await codeOf(mismatch)).toBe('PERSISTED_QUERY_MISMATCH');
    // Nothing was stored under the hash it claimed.
    expect(
      await codeOf(
        await post(app, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ viewer { id } }') } } })),
      ),
    ).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('holds stored documents to every limit, as if they were sent in full', async () => {
    const query = '{ __schema { queryType { name } } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const strict = await startTestApp({ GRAPHQL_INTROSPECTION: 'false' });
    try {
      expect(await codeOf(await post(strict, JSON.stringify({ query, extensions })))).toBe('INTROSPECTION_DISABLED');
      expect(await codeOf(await post(strict, JSON.stringify({ extensions })))).toBe('INTROSPECTION_DISABLED');
    } finally {
      await strict.close();
    }
  });

  it('keeps at most APQ_CACHE_MAX_BYTES: the least recently used document is evicted', async () => {
    const small = await startTestApp({ APQ_CACHE_MAX_BYTES: '1024' });
    try {
      const doc = (n: number) => `query Q${n} { __typename ${'__typename '.repeat(40)}}`;
      const register = (n: number) =>
        post(small, JSON.stringify({ query: doc(n), extensions: { persistedQuery: { version: 1, sha256Hash: sha256(doc(n)) } } }));
      const byHash = (n: number) =>
        post(small, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(doc(n)) } } }));
      expect((await register(1)).status).toBe(200);
      expect((await byHash(1)).status).toBe(200);
      expect((await register(2)).status).toBe(200);
      expect((await register(3)).status).toBe(200);
      expect(await codeOf(await byHash(1))).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await byHash(3)).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('says PERSISTED_QUERY_NOT_SUPPORTED when APQ is off', async () => {
    const off = await startTestApp({ AUTOMATIC_PERSISTED_QUERIES: 'false' });
    try {
      const res = await post(off, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } } }));
      expect(await res.json()).toMatchObject({
        errors: [{ message: 'PersistedQueryNotSupported', extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } }],
      });
    } finally {
      await off.close();
    }
  });
});

describe('CSRF', () => {
  let cookie: string;
  let userId: string;
  beforeAll(async () => {
    const user = await registerUser(app);
    userId = user.id;
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const session = findCookie(login, app.config.cookies.sessionName)!;
    cookie = `${session.name}=${session.value}`;
  });

  const getViewer = (headers: Record<string, string>) =>
    fetch(`${app.url}/graphql?query=${encodeURIComponent('{ viewer { id } }')}`, { headers });

  it.each([
    ['only cookies', {}],
    ['a simple Content-Type', { 'content-type': 'text/plain' }],
    ['a form Content-Type', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['an empty CSRF header', { 'x-graphql-csrf': '' }],
  ])('refuses a GET carrying %s', async (_label, headers) => {
    const res = await getViewer({ cookie, ...headers });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).not.toContain(userId);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('CSRF_REJECTED');
  });

  it.each([
    ['x-graphql-csrf', { 'x-graphql-csrf': '1' }],
    ['apollo-require-preflight', { 'apollo-require-preflight': 'true' }],
    ['x-apollo-operation-name', { 'x-apollo-operation-name': 'Viewer' }],
    ['graphql-preflight', { 'graphql-preflight': '1' }],
    ['a JSON Content-Type', { 'content-type': 'application/json' }],
  ])('lets a cookie GET query through with %s', async (_label, headers) => {
    const res = await getViewer({ cookie, ...headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { viewer: { id: userId } } });
  });

  it('refuses simple cookie-carrying POSTs', async () => {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', `query=${encodeURIComponent('{ viewer { id } }')}`],
      ['text/plain', JSON.stringify({ query: '{ viewer { id } }' })],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ viewer { id } }\r\n--x--\r\n`],
    ]) {
      const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { cookie, 'content-type': type as string }, body });
      expect(res.status).toBe(415);
      expect(await codeOf(res)).toBe('CSRF_REJECTED');
    }
  });

  it('refuses mutations over GET, even with a bearer token: METHOD_NOT_ALLOWED', async () => {
    const user = await registerAndLogin(app);
    const res = await fetch(`${app.url}/graphql?query=${encodeURIComponent('mutation { logout }')}`, {
      headers: { authorization: `Bearer ${user.accessToken}`, accept: 'application/graphql-response+json' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await codeOf(res)).toBe('METHOD_NOT_ALLOWED');
    expect((await app.client.request(ViewerDocument, {}, { token: user.accessToken })).data?.viewer?.id).toBe(user.id);
  });

  it.each([
    ['application/graphql-response+json', 'application/graphql-response+json'],
    ['application/graphql-response+json, application/json;q=0.9', 'application/graphql-response+json'],
    ['application/json', 'application/json'],
    ['*/*', 'application/json'],
  ])('answers a refusal to Accept: %s as %s', async (accept, type) => {
    const get = await getViewer({ cookie, accept });
    const form = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain', accept }, body: '{}' });
    for (const res of [get, form]) {
      expect(res.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(await codeOf(res)).toBe('CSRF_REJECTED');
    }
  });
});

describe("Yoga's own request errors", () => {
  it.each([
    ['malformed JSON', '{"query": '],
    ['no query', '{}'],
    ['variables that are not an object', JSON.stringify({ query: '{ __typename }', variables: 5 })],
    ['an unknown parameter', JSON.stringify({ query: '{ __typename }', other: 1 })],
    ['an operationName the document lacks', JSON.stringify({ query: 'query A { __typename }', operationName: 'B' })],
  ])('%s is BAD_REQUEST with a reason', async (_label, body) => {
    const res = await post(app, body, { accept: 'application/graphql-response+json' });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(json.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(json.errors[0]?.message).toBe('The request is malformed.');
    expect(typeof json.errors[0]?.extensions.reason).toBe('string');
    expect(JSON.stringify(json)).not.toMatch(/originalError|SyntaxError|position/);
  });

  it('a syntax error is GRAPHQL_PARSE_FAILED', async () => {
    expect(await codeOf(await post(app, JSON.stringify({ query: '{ viewer { id }' })))).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('CORS_ALLOW_HEADERS', () => {
  const preflight = (target: TestApp, headers: string) =>
    fetch(`${target.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    });

  it("allows Apollo's client-awareness headers by default, and exactly the configured list when set", async () => {
    const byDefault = await startTestApp({ CORS_ORIGINS: 'https://app.example.test' });
    const custom = await startTestApp({
      CORS_ORIGINS: 'https://app.example.test',
      CORS_ALLOW_HEADERS: 'Content-Type, Authorization, X-Tenant',
    });
    try {
      const allowed = (await preflight(byDefault, 'content-type, apollographql-client-name, apollographql-client-version')).headers.get(
        'access-control-allow-headers',
      );
      expect(allowed?.split(/,\s*/)).toEqual(
        expect.arrayContaining(['apollographql-client-name', 'apollographql-client-version', 'authorization']),
      );
      expect((await preflight(custom, 'x-tenant')).headers.get('access-control-allow-headers')).toBe(
        'content-type, authorization, x-tenant',
      );
    } finally {
      await Promise.all([byDefault.close(), custom.close()]);
    }
  });
});
