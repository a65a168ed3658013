import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { rawRequest, requestHead } from './helpers/raw-http.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const mutation = 'mutation { requestPasswordReset(email: "a@example.test") }';

describe('CSRF prevention', () => {
  it.each([
    ['text/plain', JSON.stringify({ query: mutation })],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(mutation)}`],
    [
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: mutation })}\r\n--x--\r\n`,
    ],
  ])('runs no operation from a simple %s POST', async (contentType, body) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('CSRF_REJECTED');
  });

  it('runs no mutation from GET, even with the preflight header', async () => {
    const res = await fetch(`${app.url}/graphql?query=${encodeURIComponent(mutation)}`, { headers: { 'x-graphql-csrf': '1' } });
    expect(res.status).toBe(405);
  });

  it('runs a GET query only with a CSRF-prevention header', async () => {
    const url = `${app.url}/graphql?query=${encodeURIComponent('{ viewer { id } }')}`;
    expect((await fetch(url)).status).toBe(400);
    const allowed = await fetch(url, { headers: { 'x-graphql-csrf': '1', accept: 'application/json' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ data: { viewer: null } });
  });

  it('does not enable CORS for arbitrary origins', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('responses', () => {
  it('are not cacheable and carry nosniff', async () => {
    const res = await app.client.raw({ query: '{ viewer { id } }' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('give validation errors a code and no stack trace', async () => {
    const res = await app.client.raw({ query: '{ viewer { passwordHash } }' });
    expect(res.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(res.errors)).not.toMatch(/stack|at .*\.ts/);
  });

  it('refuses a request body above the size limit', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ viewer { id } } #${'x'.repeat(200_000)}` }),
    });
    expect(res.status).toBe(413);
  });
});

describe('cookie settings', () => {
  it('marks cookies Secure and uses the configured names when PUBLIC_URL is https', async () => {
    const secure = await startTestApp({ PUBLIC_URL: 'https://auth.example.com', SESSION_COOKIE_NAME: 'sid', COOKIE_SAME_SITE: 'strict' });
    try {
      const user = await registerUser(secure);
      const login = await secure.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
      const cookie = findCookie(login, 'sid')!;
      expect(cookie.attributes).toMatchObject({ secure: true, httponly: true, samesite: 'Strict' });
    } finally {
      await secure.close();
    }
  });
});

describe('the default reset page', () => {
  it('is served at PUBLIC_URL/reset-password under a strict CSP and calls resetPassword', async () => {
    const page = await fetch(`${app.url}/reset-password?token=abc`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<script src="/reset-password/page.js"></script>');
    expect(html).not.toContain('abc');

    const script = await fetch(`${app.url}/reset-password/page.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const source = await script.text();
    expect(source).toContain('resetPassword(token: $t, password: $p)');
    expect(source).toContain("'content-type': 'application/json'");
  });
});

// Which paths run GraphQL (only /graphql) is tested in http-paths.test.ts.
describe('paths', () => {
  it('still serves health, the JWKS and the reset page', async () => {
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.url}/.well-known/jwks.json`)).status).toBe(200);
    expect((await fetch(`${app.url}/reset-password`)).status).toBe(200);
  });
});

// A body without Content-Length (Transfer-Encoding: chunked) is measured only as it streams in.
describe('a chunked request body', () => {
  const bodyOf = (padding: number) => JSON.stringify({ query: `{ __typename } #${'x'.repeat(padding)}` });

  it('below MAX_REQUEST_BODY_BYTES, sent in 1 KiB chunks, is answered', async () => {
    const body = bodyOf(90_000);
    let chunked = '';
    for (let i = 0; i < body.length; i += 1024) {
      const chunk = body.slice(i, i + 1024);
      chunked += `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`;
    }
    const head = requestHead('POST', '/graphql', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const res = await rawRequest(app.url, head, `${chunked}0\r\n\r\n`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('above MAX_REQUEST_BODY_BYTES is refused with REQUEST_TOO_LARGE', async () => {
    const res = await postChunked(`${app.url}/graphql`, bodyOf(200_000));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
  });

  // The refusal leaves the rest of that body unread on the connection. Kept alive, the next request
  // on it was never read: no answer, then a reset when the keep-alive timeout closed the socket.
  it('below the limit, on a kept-alive connection after a refused one, is answered', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await postChunked(`${app.url}/graphql`, bodyOf(200_000), agent);
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
      const res = await postChunked(`${app.url}/graphql`, bodyOf(50_000), agent);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
      // A body read to its end leaves the connection reusable.
      expect(res.connection).toBe('keep-alive');
    } finally {
      agent.destroy();
    }
  });

  it('with Content-Length, above the limit, leaves the next request on a kept-alive agent answered too', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = bodyOf(200_000);
      const refused = await postChunked(`${app.url}/graphql`, body, agent, Buffer.byteLength(body));
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
      const res = await postChunked(`${app.url}/graphql`, bodyOf(50_000), agent);
      expect(res.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});

/** A POST whose body goes out in 1 KiB writes: chunked (Transfer-Encoding), unless a Content-Length is given. */
function postChunked(
  url: string,
  body: string,
  agent?: Agent,
  contentLength?: number,
): Promise<{ status: number; body: string; connection?: string }> {
  const headers = {
    'content-type': 'application/json',
    ...(contentLength === undefined ? {} : { 'content-length': String(contentLength) }),
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), connection: res.headers.connection }),
      );
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 1024) req.write(body.slice(i, i + 1024));
    req.end();
  });
}
