import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { createClient } from '@redis/client';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExchangeLoginCodeDocument,
  GenerateTwoFactorSecretDocument,
  LoginDocument,
  LogoutEverywhereDocument,
  RegisterDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
} from './generated/graphql.ts';
import { freePort } from './helpers/free-port.ts';
import { postFrom } from './helpers/from-ip.ts';
import { GraphQLTestClient } from './helpers/graphql-client.ts';
import { linkIn } from './helpers/mail-links.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';
import { type SmtpCatcher, startSmtpCatcher } from './helpers/smtp-catcher.ts';
import { TestBrowser } from './helpers/sso-browser.ts';
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from './helpers/sso-providers.ts';
import { TEST_PASSWORD, uniqueEmail } from './helpers/test-app.ts';

// The test suite runs the TypeScript sources; `npm start` runs dist/, where esbuild has bundled the
// pure-JavaScript dependencies. A dependency that finds files beside itself, requires dynamically or starts
// a worker can break only there. One server from `sh scripts/start.sh`, on the run's database, goes through
// each such dependency once: nodemailer (SMTP), qrcode, openid-client (SSO), prom-client (/metrics), the
// Redis client (a chunk loaded only with REDIS_URL) and pino-pretty (LOG_FORMAT=pretty, left in node_modules).

const ROOT = path.resolve(import.meta.dirname, '..');
const METRICS_TOKEN = 'metrics-token-metrics-token-metrics-token-0123';
const APP = 'http://app.test/sso/done';
const REDIS_PREFIX = uniqueRedisPrefix('bundle');
const LIMITED_IP = '127.0.0.91';
const LOGIN_LIMIT = 10;

let server: ServerProcess & { cleanup(): Promise<void> };
let smtp: SmtpCatcher;
let oidc: TestProvider;
let client: GraphQLTestClient;
const connectRedis = () => createClient({ url: TEST_REDIS_URL }).connect();
let redis: Awaited<ReturnType<typeof connectRedis>>;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-changed'], { cwd: ROOT });
  const [port, oidcPort] = await Promise.all([freePort(), freePort()]);
  [smtp, oidc, redis] = await Promise.all([
    startSmtpCatcher(),
    startOidcProvider(oidcPort, [`http://127.0.0.1:${port}/auth/login/corp/callback`]),
    connectRedis(),
  ]);
  server = await startServerProcess(
    {
      PORT: String(port),
      EMAIL_SMTP_URL: smtp.url,
      METRICS_TOKEN,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX,
      // Logins per IP: out of reach of this file's few logins from 127.0.0.1, reached from LIMITED_IP.
      RATE_LIMIT_LOGIN_IP: `${LOGIN_LIMIT}/1h`,
      AUTH_PROVIDERS: 'corp',
      AUTH_CORP_DRIVER: 'openid',
      AUTH_CORP_ISSUER_URL: oidc.url,
      AUTH_CORP_CLIENT_ID: CLIENT_ID,
      AUTH_CORP_CLIENT_SECRET: CLIENT_SECRET,
      AUTH_CORP_REDIRECT_ALLOW_LIST: APP,
      AUTH_CORP_ALLOW_PUBLIC_REGISTRATION: 'true',
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
    },
    { bundle: true },
  );
  client = new GraphQLTestClient(`${server.url}/graphql`);
}, 120_000);

afterAll(async () => {
  await server?.cleanup();
  await Promise.all([smtp?.close(), oidc?.close()]);
  if (redis) {
    // Leave nothing of this run in the shared Redis.
    for await (const keys of redis.scanIterator({ MATCH: `${REDIS_PREFIX}:*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    await redis.close();
  }
});

async function registerAndLogin() {
  const email = uniqueEmail('bundle');
  const registered = await client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD } });
  expect(registered.errors).toBeUndefined();
  const login = await client.request(LoginDocument, { email, password: TEST_PASSWORD, mode: 'JSON' });
  expect(login.errors).toBeUndefined();
  return { email, accessToken: login.data!.login.accessToken!, refreshToken: login.data!.login.refreshToken! };
}

describe('the bundle `npm start` runs (dist/main.mjs)', () => {
  it("holds Prisma's query compiler as dist/query-compiler.wasm, not as a base64 string in its source", async () => {
    // The string would stay in V8's heap twice for the life of the process (scripts/build.mjs, QUERY_COMPILER).
    const wasm = await readFile(path.join(ROOT, 'dist/query-compiler.wasm'));
    expect(wasm.subarray(0, 4).toString('latin1')).toBe('\0asm');
    const sample = wasm.subarray(3 * 400, 3 * 432).toString('base64'); // on a 3-byte boundary, as in the whole file's base64
    for (const file of (await readdir(path.join(ROOT, 'dist'))).filter((name) => name.endsWith('.mjs')))
      expect(await readFile(path.join(ROOT, 'dist', file), 'utf8'), file).not.toContain(sample);
  });

  it('logs in pino-pretty lines with LOG_FORMAT=pretty', () => {
    const lines = stripVTControlCharacters(server.output()).split('\n'); // without pino-pretty's colours
    expect(lines.find((line) => line.includes('Gatehouse is listening'))).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Gatehouse is listening/,
    );
    expect(lines.some((line) => line.startsWith('{'))).toBe(false);
  });

  it('sends mail over SMTP: a password reset arrives and its link works', async () => {
    const { email } = await registerAndLogin();
    expect((await client.request(RequestPasswordResetDocument, { email })).errors).toBeUndefined();
    const mail = await smtp.waitForMail(email, 10_000);
    const token = linkIn(mail).searchParams.get('token');
    expect(token).toBeTruthy();
    expect((await client.request(ResetPasswordDocument, { token: token!, password: `${TEST_PASSWORD} 2` })).errors).toBeUndefined();
  });

  it('returns the QR code of a 2FA enrolment as an SVG', async () => {
    const { accessToken } = await registerAndLogin();
    const res = await client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: accessToken });
    expect(res.errors).toBeUndefined();
    const { qrCode, otpauthUrl } = res.data!.generateTwoFactorSecret;
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    expect(qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(qrCode.split(',')[1]!, 'base64').toString()).toMatch(/^<svg[\s\S]*<path[\s\S]*<\/svg>/);
  });

  it('signs in through an OpenID provider and trades the code for tokens', async () => {
    const login = `u${Math.random().toString(36).slice(2, 12)}`;
    const email = uniqueEmail('sso');
    oidc.accounts.set(login, { email, emailVerified: true });
    const start = new URL(`${server.url}/auth/login/corp`);
    start.searchParams.set('redirect', APP);
    const { appUrl, response } = await new TestBrowser(APP).navigate(start.href, login);
    expect(appUrl, `did not reach the app: ${response?.status} ${await response?.text()}`).not.toBeNull();
    const code = appUrl!.searchParams.get('code');
    expect(code).toBeTruthy();
    const exchanged = await client.request(ExchangeLoginCodeDocument, { code: code!, mode: 'JSON' });
    expect(exchanged.errors).toBeUndefined();
    expect(exchanged.data?.exchangeLoginCode.user.email).toBe(email);
  });

  it('serves /metrics with METRICS_TOKEN only, in the Prometheus text format', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^gatehouse_auth_events_total\{type="login\.succeeded",outcome="success"\} [1-9]/m);
    expect(text).toMatch(/^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
  });

  it('with REDIS_URL, counts rate limits in Redis and announces revocations there', async () => {
    const { accessToken, refreshToken } = await registerAndLogin();
    // Each at another address, so that no account locks: only the per-IP limit can refuse.
    const attempt = () =>
      postFrom(`${server.url}/graphql`, LIMITED_IP, {
        query: print(LoginDocument),
        variables: { email: uniqueEmail('x'), password: 'wrong' },
      });
    for (let i = 0; i < LOGIN_LIMIT; i++) expect((await attempt()).code).toBe('INVALID_CREDENTIALS');
    expect((await attempt()).code).toBe('RATE_LIMITED');
    // The counts live in Redis, not in the process: with Redis' counters gone, the limit is lifted.
    const counters: string[] = [];
    for await (const keys of redis.scanIterator({ MATCH: `${REDIS_PREFIX}:rl:*`, COUNT: 500 })) counters.push(...keys);
    expect(counters.length).toBeGreaterThan(0);
    await redis.del(counters);
    expect((await attempt()).code).toBe('INVALID_CREDENTIALS');

    const subscriber = await redis.duplicate().connect();
    try {
      let hear: (message: string) => void = () => {};
      const heard = new Promise<string>((resolve) => (hear = resolve));
      await subscriber.subscribe(`${REDIS_PREFIX}:session-revocations`, (message) => hear(message));
      const out = await client.request(LogoutEverywhereDocument, { refreshToken, mode: 'JSON' }, { token: accessToken });
      expect(out.errors).toBeUndefined();
      expect(await heard).toBeTruthy();
    } finally {
      await subscriber.close();
    }
  });
});
