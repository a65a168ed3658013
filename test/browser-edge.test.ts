import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const APP_ORIGIN = 'https://app.example.test';
const DEV_ORIGIN = 'http://localhost:5173';

let app: TestApp;
let plain: TestApp;
beforeAll(async () => {
  [app, plain] = await Promise.all([
    startTestApp({ CORS_ORIGINS: `${APP_ORIGIN}, ${DEV_ORIGIN}`, CORS_MAX_AGE: '5m', PUBLIC_URL: 'https://auth.example.test' }),
    startTestApp(),
  ]);
});
afterAll(() => Promise.all([app.close(), plain.close()]));

const preflight = (target: TestApp, origin: string) =>
  fetch(`${target.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
  });

const post = (target: TestApp, origin: string) =>
  fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ viewer { id } }' }),
  });

describe('CORS', () => {
  it.each([APP_ORIGIN, DEV_ORIGIN])(
    'answers a preflight from the listed origin %s with itself, credentials and caching',
    async (origin) => {
      const res = await preflight(app, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-max-age')).toBe('300');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    },
  );

  it.each([
    'https://evil.example',
    'https://app.example.test.evil.example',
    'http://app.example.test',
    'https://app.example.test:8443',
    'null',
  ])('gives the unlisted origin %s no CORS headers at all', async (origin) => {
    for (const res of [await preflight(app, origin), await post(app, origin)]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('lets a listed origin read a credentialed response, varying by Origin', async () => {
    const res = await post(app, APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('is off without CORS_ORIGINS, never echoing an origin or *', async () => {
    for (const res of [await preflight(plain, APP_ORIGIN), await post(plain, APP_ORIGIN)]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('leaves the public key set readable by anyone, without credentials', async () => {
    const res = await fetch(`${app.url}/.well-known/jwks.json`, { headers: { origin: APP_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('security headers', () => {
  it('are on every API response; HSTS only when PUBLIC_URL is https', async () => {
    const secure = await post(app, APP_ORIGIN);
    const insecure = await post(plain, APP_ORIGIN);
    for (const res of [secure, insecure]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(insecure.headers.get('strict-transport-security')).toBeNull();
  });

  it('leave the reset page its own stricter CSP', async () => {
    const res = await fetch(`${plain.url}/reset-password`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});
