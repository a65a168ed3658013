import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER, ensureDemoUser } from '../examples/federation/demo-user.ts';
import { startGateway } from '../examples/federation/gateway.ts';
import { POSTS_SDL, startPostsSubgraph } from '../examples/federation/posts-subgraph.ts';
import { LoginDocument, LogoutDocument, RefreshDocument, ViewerDocument, ViewerSessionsDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { postFrom, sleep } from './helpers/from-ip.ts';
import { findCookie, GraphQLTestClient } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Gatehouse behind a real gateway (Apollo Gateway, composing at start with IntrospectAndCompose)
// beside the example's posts subgraph, which verifies Gatehouse's tokens against its JWKS. One
// gateway for the file; the README test runs first, while the posts subgraph is still empty.

const subgraphSdl = readFileSync(new URL('../schema.subgraph.graphql', import.meta.url), 'utf8');

let app: TestApp;
let posts: Awaited<ReturnType<typeof startPostsSubgraph>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let gw: GraphQLTestClient;

beforeAll(async () => {
  app = await startTestApp({ TRUST_PROXY: '127.0.0.1', RATE_LIMIT_REQUEST_PASSWORD_RESET_IP: '2/1h' });
  posts = await startPostsSubgraph({
    jwksUrl: `${app.url}/.well-known/jwks.json`,
    issuer: app.config.tokens.issuer,
    audience: app.config.tokens.audience,
  });
  gateway = await startGateway({
    subgraphs: [
      { name: 'gatehouse', url: `${app.url}/graphql` },
      { name: 'posts', url: posts.url },
    ],
    gatehouse: 'gatehouse',
  });
  gw = new GraphQLTestClient(gateway.url);
});

afterAll(async () => {
  await gateway?.close();
  await posts?.close();
  await app?.close();
});

const createPost = (title: string, token?: string, isPublic = true) =>
  gw.raw<{ createPost: { id: string; title: string } }>(
    {
      query: 'mutation ($title: String!, $public: Boolean) { createPost(title: $title, public: $public) { id title } }',
      variables: { title, public: isPublic },
    },
    { token },
  );

const codesAndPaths = (errors: { extensions?: { code?: string }; path?: unknown[] }[] | undefined) =>
  errors?.map((e) => [e.extensions?.code, e.path]);

describe("the README's curl calls", () => {
  it('work through the gateway as shown', async () => {
    await ensureDemoUser(`${app.url}/graphql`);
    const section = readFileSync(new URL('../README.md', import.meta.url), 'utf8').split('## Federation')[1]!;
    const block = /```sh\n(GW=[\s\S]*?)```/.exec(section)![1]!;
    const calls = block.split(/(?=curl -s \$GW)/).slice(1);
    expect(calls).toHaveLength(3);
    let token = '';
    for (const call of calls) {
      const body = JSON.parse(/-d '([^']+)'/.exec(call)![1]!);
      const res = await gw.raw(body, { token: call.includes('Bearer $TOKEN') ? token : undefined });
      const shown = /^# (\{.*\})$/m.exec(call)?.[1];
      if (shown) expect({ data: res.data, errors: res.errors }).toEqual({ errors: undefined, ...JSON.parse(shown) });
      else token = (res.data as { login: { accessToken: string } }).login.accessToken;
    }
    expect(token).not.toBe('');
    expect(block).toContain(DEMO_USER.email);
  });
});

describe('composition', () => {
  it('composes the committed subgraph SDL with the posts subgraph (@apollo/composition)', () => {
    const result = composeServices([
      { name: 'gatehouse', url: 'http://gatehouse/graphql', typeDefs: parse(subgraphSdl) },
      { name: 'posts', url: 'http://posts/graphql', typeDefs: parse(POSTS_SDL) },
    ]);
    expect(result.errors).toBeUndefined();
    const api = result.schema!.toAPISchema().toGraphQLJSSchema();
    const query = api.getQueryType()!.getFields();
    expect(Object.keys(query)).toEqual(expect.arrayContaining(['viewer', 'user', 'users', 'posts']));
    expect(api.getType('User')?.toConfig()).toHaveProperty('fields.posts');
    expect(api.getType('Post')?.toConfig()).toHaveProperty('fields.author');
    // Access administration stays on Gatehouse (@inaccessible).
    for (const hidden of ['roles', 'role', 'policies', 'policy', 'permissions', 'permission']) expect(query).not.toHaveProperty(hidden);
    for (const hidden of ['Role', 'Policy', 'Permission', 'AccessResource']) expect(api.getType(hidden)).toBeUndefined();
    expect(api.getType('User')?.toConfig()).not.toHaveProperty('fields.role');
  });

  it('was done by the gateway at start from the live subgraphs (IntrospectAndCompose): one query reaches both', async () => {
    const res = await gw.raw({ query: '{ viewer { id } posts { id } }' });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ viewer: null, posts: expect.any(Array) });
  });

  it('keeps the access administration Gatehouse serves directly out of the supergraph', async () => {
    const admin = await loginAsAdmin(app);
    expect((await app.client.raw({ query: '{ roles { name } }' }, { token: admin })).errors).toBeUndefined();
    const res = await gw.raw({ query: '{ roles { name } }' }, { token: admin });
    expect(res.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});

describe('through the gateway', () => {
  it('logs in: login returns both tokens and the user', async () => {
    const user = await registerUser(app);
    const res = await gw.request(LoginDocument, { email: user.email, password: TEST_PASSWORD });
    expect(res.errors).toBeUndefined();
    expect(res.data?.login).toMatchObject({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      user: { id: user.id, email: user.email },
    });
  });

  it("serves the signed-in author's viewer with posts, and posts with their author", async () => {
    const author = await registerAndLogin(app);
    expect((await createPost('Mine, public', author.accessToken)).errors).toBeUndefined();
    expect((await createPost('Mine, private', author.accessToken, false)).errors).toBeUndefined();
    const res = await gw.raw<{ viewer: unknown; posts: { title: string; author: { email: string } | null }[] }>(
      { query: '{ viewer { email posts { title } } posts { title author { email } } }' },
      { token: author.accessToken },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toEqual({ email: author.email, posts: [{ title: 'Mine, private' }, { title: 'Mine, public' }] });
    expect(res.data?.posts).toEqual(
      expect.arrayContaining([
        { title: 'Mine, public', author: { email: author.email } },
        { title: 'Mine, private', author: { email: author.email } },
      ]),
    );
  });

  it("answers another user's author { email } as Gatehouse answers user(id:) directly: null (outside the row filter)", async () => {
    const writer = await registerAndLogin(app);
    const reader = await registerAndLogin(app);
    const post = await createPost(`By someone else ${uniqueEmail()}`, writer.accessToken);
    const direct = await app.client.raw({ query: `{ user(id: "${writer.id}") { email } }` }, { token: reader.accessToken });
    expect(direct.errors).toBeUndefined();
    expect(direct.data).toEqual({ user: null });

    const res = await gw.raw<{ posts: { id: string; author: unknown }[] }>(
      { query: '{ posts { id author { email } } }' },
      { token: reader.accessToken },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.posts.find((p) => p.id === post.data?.createPost.id)).toEqual({ id: post.data?.createPost.id, author: null });
  });

  it('gives an anonymous caller public posts and no email: each author UNAUTHENTICATED, as user(id:) directly', async () => {
    const writer = await registerAndLogin(app);
    const open = await createPost(`Open ${uniqueEmail()}`, writer.accessToken);
    const closed = await createPost(`Closed ${uniqueEmail()}`, writer.accessToken, false);
    expect((await app.client.raw({ query: `{ user(id: "${writer.id}") { email } }` })).code).toBe('UNAUTHENTICATED');

    const res = await gw.raw<{ posts: { id: string; author: unknown }[] }>({ query: '{ posts { id author { email } } }' });
    const ids = res.data?.posts.map((p) => p.id) ?? [];
    expect(ids).toContain(open.data?.createPost.id);
    expect(ids).not.toContain(closed.data?.createPost.id);
    expect(res.data?.posts.every((p) => p.author === null)).toBe(true);
    expect(res.errors?.length).toBe(ids.length);
    expect(new Set(res.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
    expect(JSON.stringify(res)).not.toContain(writer.email);
  });

  it('keeps error codes, messages and fields, with nothing of the subgraphs inside', async () => {
    const user = await registerAndLogin(app);
    const res = await gw.raw(
      { query: `mutation { updateUser(id: "${user.id}", input: { email: "${uniqueEmail()}" }) { id } }` },
      { token: user.accessToken },
    );
    expect(res.errors).toEqual([
      { message: 'You are not allowed to set the field "email".', path: ['updateUser'], extensions: { code: 'FORBIDDEN', field: 'email' } },
    ]);
    const anonymous = await createPost('Nobody');
    expect(anonymous.errors).toEqual([
      { message: 'You must be signed in to do this.', path: ['createPost'], extensions: { code: 'UNAUTHENTICATED' } },
    ]);
    expect(JSON.stringify([res, anonymous])).not.toMatch(/serviceName|stacktrace|127\.0\.0\.1|gatehouse|posts/i);
  });

  it('refuses a logged-out bearer in Gatehouse at once; the posts subgraph, verifying offline, until it expires', async () => {
    const user = await registerAndLogin(app);
    expect((await gw.request(ViewerDocument, {}, { token: user.accessToken })).data?.viewer?.email).toBe(user.email);
    const logout = await gw.request(LogoutDocument, { refreshToken: user.refreshToken }, { token: user.accessToken });
    expect(logout.data?.logout).toBe(true);

    const after = await gw.request(ViewerDocument, {}, { token: user.accessToken });
    expect(after.code).toBe('INVALID_TOKEN');
    expect(after.data?.viewer ?? null).toBeNull();
    const post = await createPost('After logout', user.accessToken);
    expect(post.errors).toBeUndefined(); // documented: an offline verifier sees a logout only at exp
    const withAuthor = await gw.raw({ query: '{ posts { title author { email } } }' }, { token: user.accessToken });
    expect(codesAndPaths(withAuthor.errors)?.every(([code]) => code === 'INVALID_TOKEN')).toBe(true);
    expect(JSON.stringify(withAuthor.data)).not.toContain(user.email);
  });

  it('reports TOKEN_EXPIRED from both subgraphs for an expired access token', async () => {
    // Another instance on the same database and keys, whose tokens live one second.
    const shortLived = await startTestApp({ ACCESS_TOKEN_TTL: '1s' });
    try {
      const user = await registerUser(app);
      const login = await shortLived.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD });
      const token = login.data!.login.accessToken!;
      await sleep(2100);
      const viewer = await gw.request(ViewerDocument, {}, { token });
      expect(viewer.errors).toEqual([{ message: 'The token has expired.', path: ['viewer'], extensions: { code: 'TOKEN_EXPIRED' } }]);
      const post = await createPost('Too late', token);
      expect(post.errors).toEqual([{ message: 'The token has expired.', path: ['createPost'], extensions: { code: 'TOKEN_EXPIRED' } }]);
    } finally {
      await shortLived.close();
    }
  });

  it('carries COOKIE mode: the refresh cookie comes back through the gateway and refreshes through it', async () => {
    const user = await registerUser(app);
    const login = await gw.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'COOKIE' });
    expect(login.data?.login.refreshToken).toBeNull();
    const cookie = findCookie(login, app.config.cookies.refreshName);
    expect(cookie?.attributes.httponly).toBe(true);
    const refresh = await gw.request(RefreshDocument, { mode: 'COOKIE' }, { cookie: `${cookie!.name}=${cookie!.value}` });
    expect(refresh.errors).toBeUndefined();
    expect(refresh.data?.refresh.accessToken).toEqual(expect.any(String));
    expect(findCookie(refresh, app.config.cookies.refreshName)?.value).not.toBe(cookie!.value);
  });

  it('refuses a request a cross-site form could send (the gateway’s own CSRF prevention)', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
  });

  it("records the client's address, not the gateway's (TRUST_PROXY), whatever X-Forwarded-For the client sends", async () => {
    const user = await registerUser(app);
    const login = await postFrom<{ login: { accessToken: string } }>(
      gateway.url,
      '127.0.0.5',
      { query: `mutation { login(email: "${user.email}", password: "${TEST_PASSWORD}") { accessToken } }` },
      { 'x-forwarded-for': '203.0.113.9' },
    );
    const sessions = await gw.request(ViewerSessionsDocument, {}, { token: login.data!.login.accessToken });
    expect(sessions.data?.viewer?.sessions.map((s) => s.ip)).toEqual(['127.0.0.5']);
  });

  it("counts Gatehouse's per-IP rate limits per client behind the gateway", async () => {
    const reset = (from: string) => postFrom(gateway.url, from, { query: `mutation { requestPasswordReset(email: "${uniqueEmail()}") }` });
    expect((await reset('127.0.0.8')).errors).toBeUndefined();
    expect((await reset('127.0.0.8')).errors).toBeUndefined();
    const limited = await reset('127.0.0.8');
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.errors?.[0]?.extensions?.retryAfter).toEqual(expect.any(Number));
    expect((await reset('127.0.0.9')).errors).toBeUndefined();
  });
});
