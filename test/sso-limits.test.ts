import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeLoginCodeDocument } from './generated/graphql.ts';
import { freePort } from './helpers/free-port.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Windows of an hour: the budgets are spent well inside them, however slow the machine.
const APP = 'http://app.test/done';
let app: TestApp;

beforeAll(async () => {
  const down = await freePort();
  app = await startTestApp({
    AUTH_PROVIDERS: 'corp',
    AUTH_CORP_DRIVER: 'openid',
    AUTH_CORP_ISSUER_URL: `http://127.0.0.1:${down}`,
    AUTH_CORP_CLIENT_ID: 'gatehouse',
    AUTH_CORP_REDIRECT_ALLOW_LIST: APP,
    RATE_LIMIT_SSO_LOGIN_IP: '2/1h',
    RATE_LIMIT_EXCHANGE_LOGIN_CODE_IP: '100/1h',
    RATE_LIMIT_EXCHANGE_LOGIN_CODE_ACCOUNT: '2/1h',
  });
}, 120_000);

afterAll(() => app?.close());

async function errorOf(path: string): Promise<string | null> {
  const res = await fetch(`${app.url}${path}`, { redirect: 'manual' });
  return new URL(res.headers.get('location') as string).searchParams.get('error');
}

describe('single sign-on rate limits', () => {
  it('limits sign-in starts and callbacks per IP, before any work', async () => {
    const start = `/auth/login/corp?redirect=${encodeURIComponent(APP)}`;
    expect(await errorOf(start)).toBe('SSO_PROVIDER_UNAVAILABLE');
    expect(await errorOf(start)).toBe('SSO_PROVIDER_UNAVAILABLE');
    expect(await errorOf(start)).toBe('RATE_LIMITED');
    expect(await errorOf('/auth/login/corp/callback?code=x&state=y')).toBe('RATE_LIMITED');
  });

  it('limits guesses at one login code', async () => {
    const id = randomUUID();
    const guess = () => app.client.request(ExchangeLoginCodeDocument, { code: `${id}.${'a'.repeat(43)}` });
    expect((await guess()).code).toBe('INVALID_TOKEN');
    expect((await guess()).code).toBe('INVALID_TOKEN');
    expect((await guess()).code).toBe('RATE_LIMITED');
    // Another code has its own budget.
    const other = await app.client.request(ExchangeLoginCodeDocument, { code: `${randomUUID()}.${'a'.repeat(43)}` });
    expect(other.code).toBe('INVALID_TOKEN');
  });

  it('answers HEAD and other methods on the sign-in paths with 405, starting nothing', async () => {
    const head = await fetch(`${app.url}/auth/login/corp/callback`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('set-cookie')).toBeNull();
    const post = await fetch(`${app.url}/auth/login/corp`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});
