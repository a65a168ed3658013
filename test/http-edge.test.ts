import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
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
