import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, ViewerDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { type RawResponse, rawRequest, requestHead } from './helpers/raw-http.ts';
import { ADMIN_EMAIL, startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// Issue #10, finding 1: GraphQL ran on any URL whose text ended in /graphql, on paths where the
// CSRF check did not apply. A cross-site form carrying a session cookie logged its victim out.

let app: TestApp;
let user: { id: string; email: string };
let cookie: string;

beforeAll(async () => {
  app = await startTestApp();
  user = await registerUser(app);
  const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
  const session = findCookie(login, app.config.cookies.sessionName);
  if (!session) throw new Error('no session cookie');
  cookie = `${session.name}=${session.value}`;
});
afterAll(() => app.close());

const logout = 'mutation { logout(mode: SESSION) }';
const viewer = '{ viewer { id email } }';

/** The bodies a cross-site page can send without a preflight, and application/graphql. */
const FORGED_POSTS: [string, string, string][] = [
  ['a form POST', 'application/x-www-form-urlencoded', `query=${encodeURIComponent(logout)}`],
  [
    'a multipart POST',
    'multipart/form-data; boundary=x',
    `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: logout })}\r\n--x--\r\n`,
  ],
  ['a text/plain POST', 'text/plain', JSON.stringify({ query: logout })],
  ['an application/graphql POST', 'application/graphql', logout],
  ['a form POST with a charset', 'application/x-www-form-urlencoded; charset=utf-8', `query=${encodeURIComponent(logout)}`],
];

/** Paths served by a fixed handler: GET/HEAD only, never GraphQL. */
const FIXED = [
  '/health',
  '/livez',
  '/readyz',
  '/readyz?a=/graphql',
  '/.well-known/jwks.json',
  '/.well-known/openid-configuration',
  '/reset-password',
  '/reset-password/page.js',
  '/reset-password/page.css',
  '/verify-email',
  '/verify-email/page.js',
  '/confirm-email/page.css',
  '/accept-invite',
  '/accept-invite/page.js',
  '/health?a=/graphql',
  '/reset-password?a=/graphql',
  '/.well-known/jwks.json?a=/graphql',
];

/** Paths nothing is served at: what the text ends in, decodes to or normalises to does not matter. */
const UNSERVED = [
  '/',
  '/graphql/',
  '//graphql',
  '/GRAPHQL',
  '/Graphql',
  '/%2Fgraphql',
  '/%2fgraphql',
  '/graphq%6C',
  '/graphql%2F',
  '/graphql;a',
  '/graphql/.',
  '/./graphql',
  '/.well-known/../graphql',
  '/.well-known/%2E%2E/graphql',
  '/.well-known%2F..%2Fgraphql',
  '/reset-password/../graphql',
  '/.well-known/graphql',
  '/.well-known/x',
  '/.well-known/x?a=/graphql',
  '/reset-password/graphql',
  '/reset-password/x?a=/graphql',
  '/reset-passwordgraphql',
  '/api/graphql',
  '/x?a=/graphql',
  '/?a=/graphql',
  '/health/graphql',
  'http://localhost/graphql',
  'http://evil.example/graphql',
];

const withQuery = (target: string, query: string) => `${target}${target.includes('?') ? '&' : '?'}query=${encodeURIComponent(query)}`;

const post = (target: string, contentType: string, body: string) =>
  rawRequest(
    app.url,
    requestHead('POST', target, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), cookie }),
    body,
  );

const get = (target: string) => rawRequest(app.url, requestHead('GET', target, { cookie }));

/** Nothing in the answer came from executing GraphQL. */
function expectNoExecution(res: RawResponse) {
  expect(res.body).not.toContain('"data"');
  expect(res.body).not.toContain(user.id);
  expect(res.body).not.toContain(user.email);
}

async function expectSessionAlive() {
  const res = await app.client.request(ViewerDocument, {}, { cookie });
  expect(res.data?.viewer?.id).toBe(user.id);
}

describe('GraphQL is served at exactly /graphql', () => {
  it("runs nothing from the reported attack: a cross-site form to /.well-known/x?a=/graphql with an admin's cookie", async () => {
    const admin = await app.client.request(LoginDocument, { email: ADMIN_EMAIL, password: TEST_PASSWORD, mode: 'SESSION' });
    const adminSession = findCookie(admin, app.config.cookies.sessionName)!;
    const adminCookie = `${adminSession.name}=${adminSession.value}`;
    const victim = await registerUser(app);
    const takeover = `mutation { updateUser(id: "${victim.id}", input: { password: "attacker-chosen-password" }) { id } }`;
    const statuses: number[] = [];
    for (const query of [takeover, logout]) {
      const body = `query=${encodeURIComponent(query)}`;
      const res = await rawRequest(
        app.url,
        requestHead('POST', '/.well-known/x?a=/graphql', {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
          cookie: adminCookie,
        }),
        body,
      );
      statuses.push(res.status);
    }
    const stillOld = await app.client.request(LoginDocument, { email: victim.email, password: TEST_PASSWORD, mode: 'JSON' });
    expect(stillOld.data?.login.user.id).toBe(victim.id);
    const adminAlive = await app.client.request(ViewerDocument, {}, { cookie: adminCookie });
    expect(adminAlive.data?.viewer?.email).toBe(ADMIN_EMAIL);
    expect(statuses).toEqual([404, 404]);

    const read = await rawRequest(
      app.url,
      requestHead('GET', `/.well-known/x?query=${encodeURIComponent(viewer)}&a=/graphql`, { cookie: adminCookie }),
    );
    expect(read.status).toBe(404);
    expect(read.body).not.toContain(ADMIN_EMAIL);
  });

  it.each(FORGED_POSTS)('runs no operation from %s to /graphql', async (_label, contentType, body) => {
    const res = await post('/graphql', contentType, body);
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('CSRF_REJECTED');
    expectNoExecution(res);
    await expectSessionAlive();
  });

  it('runs no query from a GET carrying only a cookie', async () => {
    const res = await get(withQuery('/graphql', viewer));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('CSRF_REJECTED');
    expectNoExecution(res);
  });

  it.each(UNSERVED)('serves nothing at %s: forged POSTs and GET queries get 404', async (target) => {
    for (const [, contentType, body] of FORGED_POSTS) {
      const res = await post(target, contentType, body);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('NOT_FOUND');
      expectNoExecution(res);
    }
    const json = await post(target, 'application/json', JSON.stringify({ query: logout }));
    expect(json.status).toBe(404);
    expectNoExecution(json);
    for (const query of [viewer, logout]) {
      const res = await get(withQuery(target, query));
      expect(res.status).toBe(404);
      expectNoExecution(res);
    }
    await expectSessionAlive();
  });

  it.each(FIXED)('answers %s from a fixed handler: POSTs get 405, a GET query runs nothing', async (target) => {
    const posts: [string, string, string][] = [...FORGED_POSTS, ['a JSON POST', 'application/json', JSON.stringify({ query: logout })]];
    for (const [, contentType, body] of posts) {
      const res = await post(target, contentType, body);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expectNoExecution(res);
    }
    for (const query of [viewer, logout]) {
      const res = await get(withQuery(target, query));
      expect(res.status).toBe(200);
      expectNoExecution(res);
    }
    await expectSessionAlive();
  });

  it('still runs a JSON POST at /graphql with the session cookie', async () => {
    const res = await post('/graphql', 'application/json', JSON.stringify({ query: viewer }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { viewer: { id: user.id, email: user.email } } });
  });
});
