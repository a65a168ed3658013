import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// Rotation retires the key every instance on a database signs with, so these tests run on a
// database of their own, and rotate the way an operator does: `npm run keys:rotate`'s script.
const ROOT = path.resolve(import.meta.dirname, '..');
const SECRET = 'test-secret-test-secret-test-secret-0123456789';

async function rotateKeys(databaseUrl: string, env: Record<string, string> = {}, args: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/keys-rotate.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: databaseUrl, SECRET, LOG_LEVEL: 'silent', ...env },
  });
  const kid = /New signing key (\S+) /.exec(stdout)?.[1];
  if (!kid) throw new Error(`unexpected keys:rotate output: ${stdout}`);
  return kid;
}

async function jwksKids(app: TestApp): Promise<string[]> {
  const res = await fetch(`${app.url}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

async function kidOfNewLogin(app: TestApp, email: string): Promise<string | undefined> {
  const login = await app.client.request(LoginDocument, { email, password: TEST_PASSWORD });
  return decodeProtectedHeader(login.data!.login.accessToken!).kid;
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// One database for the file; its describes run one after another and close their servers.
let database: IsolatedDatabase;
beforeAll(async () => {
  database = await createIsolatedDatabase();
});
afterAll(() => database?.drop());

describe('signing keys on a fresh database', () => {
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;
  beforeAll(async () => {
    // Three instances starting at the same moment on an empty database.
    [a, b, c] = (await Promise.all(
      ['a', 'b', 'c'].map(() => startTestApp({ DATABASE_URL: database.url, SIGNING_KEY_RELOAD_INTERVAL: '1s' })),
    )) as [TestApp, TestApp, TestApp];
  });
  afterAll(() => Promise.all([a?.close(), b?.close(), c?.close()]));

  it('creates exactly one key when several instances start together', async () => {
    expect(await a.db.signingKey.count()).toBe(1);
    const kids = await jwksKids(a);
    expect(await jwksKids(b)).toEqual(kids);
    expect(await jwksKids(c)).toEqual(kids);
  });

  it('rotates: the new key is published before it signs; then new tokens carry it on every instance, old ones keep working', async () => {
    const user = await registerAndLogin(a);
    const oldKid = decodeProtectedHeader(user.accessToken).kid!;
    const newKid = await rotateKeys(database.url, { SIGNING_KEY_ACTIVATION_DELAY: '8s' });
    expect(newKid).not.toBe(oldKid);
    const { activatesAt } = await a.db.signingKey.findUniqueOrThrow({ where: { id: newKid } });

    // Running servers pick the new key up without a restart (here by their 1 s reload): first in
    // the JWKS only, so verifiers that cache it learn the key before any token carries it...
    for (const app of [a, b]) {
      expect(
        await eventually(
          () => jwksKids(app),
          (kids) => kids[0] === newKid,
          3000,
        ),
      ).toEqual([newKid, oldKid]);
    }
    expect(await kidOfNewLogin(a, user.email)).toBe(oldKid);
    expect(Date.now()).toBeLessThan(activatesAt.getTime());
    // ...then, from its activation on, for signing.
    for (const app of [a, b]) {
      expect(
        await eventually(
          () => kidOfNewLogin(app, user.email),
          (kid) => kid === newKid,
          12_000,
        ),
      ).toBe(newKid);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(activatesAt.getTime());
    for (const app of [a, b]) {
      expect((await app.client.request(ViewerDocument, {}, { token: user.accessToken })).data?.viewer?.id).toBe(user.id);
    }
    const rows = await a.db.signingKey.findMany({ orderBy: { generation: 'asc' } });
    expect(rows.map((r) => [r.id, r.retiredAt !== null])).toEqual([
      [oldKid, true],
      [newKid, false],
    ]);
  });

  it('a token from an instance that rotated a moment ago verifies at once on one that has not reloaded yet', async () => {
    const slow = await startTestApp({ DATABASE_URL: database.url, SIGNING_KEY_RELOAD_INTERVAL: '60s' });
    try {
      const user = await registerAndLogin(a);
      const newKid = await rotateKeys(database.url, {}, ['--now']);
      const token = await eventually(
        async () => (await a.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD })).data!.login.accessToken!,
        (t) => decodeProtectedHeader(t).kid === newKid,
        3000,
      );
      expect(decodeProtectedHeader(token).kid).toBe(newKid);
      // `slow` has not reloaded on its own: the unknown kid makes it look.
      expect((await slow.client.request(ViewerDocument, {}, { token })).data?.viewer?.id).toBe(user.id);
    } finally {
      await slow.close();
    }
  });
});

describe('key rotation notified through Redis', () => {
  let app: TestApp;
  const redis = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniqueRedisPrefix('keys') };
  beforeAll(async () => {
    app = await startTestApp({ DATABASE_URL: database.url, SIGNING_KEY_RELOAD_INTERVAL: '60s', ...redis });
  });
  afterAll(() => app?.close());

  it('reaches a running server within a second, long before its reload interval', async () => {
    const user = await registerAndLogin(app);
    const newKid = await rotateKeys(database.url, redis, ['--now']);
    expect(
      await eventually(
        () => jwksKids(app),
        (kids) => kids[0] === newKid,
        1000,
      ),
    ).toContain(newKid);
    expect(await kidOfNewLogin(app, user.email)).toBe(newKid);
  });
});

describe('rotation after a key compromise (--compromised)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ DATABASE_URL: database.url, SIGNING_KEY_RELOAD_INTERVAL: '1s' });
  });
  afterAll(() => app?.close());

  it('drops every older key: tokens it signed are refused at once (even ones verified before), refresh hands out new ones', async () => {
    const user = await registerAndLogin(app);
    const oldKid = decodeProtectedHeader(user.accessToken).kid;
    expect((await app.client.request(ViewerDocument, {}, { token: user.accessToken })).data?.viewer?.id).toBe(user.id);

    const newKid = await rotateKeys(database.url, {}, ['--compromised']);
    expect(
      await eventually(
        () => app.client.request(ViewerDocument, {}, { token: user.accessToken }).then((r) => r.code),
        (code) => code === 'INVALID_TOKEN',
        3000,
      ),
    ).toBe('INVALID_TOKEN');
    expect(await jwksKids(app)).toEqual([newKid]);
    expect(await app.db.signingKey.count({ where: { id: oldKid } })).toBe(0);

    const refreshed = await app.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    const fresh = refreshed.data!.refresh.accessToken!;
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
    expect((await app.client.request(ViewerDocument, {}, { token: fresh })).data?.viewer?.id).toBe(user.id);
  });
});

describe('retired keys', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ DATABASE_URL: database.url, ACCESS_TOKEN_TTL: '3s', SIGNING_KEY_RELOAD_INTERVAL: '1s' });
  });
  afterAll(() => app?.close());

  it('are dropped from the JWKS and the database once every token they signed has expired', async () => {
    const [oldKid] = await jwksKids(app);
    const newKid = await rotateKeys(database.url, { ACCESS_TOKEN_TTL: '3s', SIGNING_KEY_RELOAD_INTERVAL: '1s' }, ['--now']);
    // Both are published once the server has reloaded; the old one for ACCESS_TOKEN_TTL plus one
    // reload interval after its retirement (here 4 s), then it is dropped.
    // (Keys retired by the tests above may still be listed after these two, on their way out.)
    const published = await eventually(
      () => jwksKids(app),
      (kids) => kids[0] === newKid,
      3000,
    );
    expect(published.slice(0, 2)).toEqual([newKid, oldKid]);
    expect(
      await eventually(
        () => jwksKids(app),
        (kids) => kids.length === 1,
        8000,
      ),
    ).toEqual([newKid]);
    expect(await app.db.signingKey.findUnique({ where: { id: oldKid! } })).toBeNull();
  });
});

describe('JWT_ALGORITHM=ES256', () => {
  it('signs with P-256 keys; switching algorithms rotates at start and keeps the old key verifying', async () => {
    const ed = await startTestApp({ DATABASE_URL: database.url });
    const before = await registerAndLogin(ed);
    await ed.close();
    const es = await startTestApp({ DATABASE_URL: database.url, JWT_ALGORITHM: 'ES256', SIGNING_KEY_ACTIVATION_DELAY: '1s' });
    try {
      // The new key signs once its activation delay (here 1 s) has passed.
      const { email } = await registerAndLogin(es);
      await eventually(
        () => kidOfNewLogin(es, email),
        (kid) => kid !== decodeProtectedHeader(before.accessToken).kid,
        4000,
      );
      const login = await es.client.request(LoginDocument, { email, password: TEST_PASSWORD });
      const after = { id: login.data!.login.user.id, accessToken: login.data!.login.accessToken! };
      expect(decodeProtectedHeader(before.accessToken).alg).toBe('EdDSA');
      expect(decodeProtectedHeader(after.accessToken)).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
      const { keys } = (await (await fetch(`${es.url}/.well-known/jwks.json`)).json()) as {
        keys: { kty: string; alg: string; kid: string }[];
      };
      expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: decodeProtectedHeader(after.accessToken).kid });
      expect(keys.find((k) => k.kid === decodeProtectedHeader(before.accessToken).kid)).toMatchObject({ kty: 'OKP', alg: 'EdDSA' });
      for (const user of [before, after]) {
        expect((await es.client.request(ViewerDocument, {}, { token: user.accessToken })).data?.viewer?.id).toBe(user.id);
      }
      const discovery = (await (await fetch(`${es.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery.id_token_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
    } finally {
      await es.close();
    }
  });
});

describe('a SECRET other than the one the keys were sealed with', () => {
  it('cannot open the signing key, and the server refuses to start, saying why', async () => {
    await expect(startTestApp({ DATABASE_URL: database.url, SECRET: 'another-secret-another-secret-another-secret' })).rejects.toThrow(
      /cannot be decrypted: SECRET differs/,
    );
  });
});
