import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { type PrivatePostgres, startPrivatePostgres } from './helpers/private-postgres.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Health a load balancer can trust, on a PostgreSQL server of the test's own that it stops and starts.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SKIP = 'no PostgreSQL server binaries under /usr/lib/postgresql: the outage cannot be staged';

let pg: PrivatePostgres | null;
let app: TestApp;
beforeAll(async () => {
  pg = await startPrivatePostgres();
  if (!pg) return;
  app = await startTestApp({ DATABASE_URL: pg.url });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await pg?.cleanup();
});

const probe = async (path: string) => {
  const response = await fetch(`${app.url}${path}`);
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    cacheControl: response.headers.get('cache-control'),
  };
};

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !done(value); i++) {
    await sleep(200);
    value = await read();
  }
  return value;
}

describe('health endpoints during a database outage', () => {
  it('/readyz fails with a reason, /livez stays up, database-bound requests answer SERVICE_UNAVAILABLE, and all recover', async (ctx) => {
    if (!pg) return ctx.skip(SKIP);
    const adminToken = await loginAsAdmin(app);
    const user = await registerAndLogin(app);
    const users = () => app.client.raw({ query: '{ users(first: 1) { edges { node { id } } } }' }, { token: adminToken });
    const viewerAndTypename = () => app.client.raw({ query: '{ __typename viewer { id } }' }, { token: user.accessToken });

    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ready' }, cacheControl: 'no-store' });
    expect(await probe('/livez')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await users()).status).toBe(200);

    await pg.stop();

    expect(await probe('/readyz')).toEqual({
      status: 503,
      body: { status: 'unavailable', reason: 'database unreachable' },
      cacheControl: 'no-store',
    });
    expect(await probe('/livez')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await probe('/health')).toMatchObject({ status: 200, body: { status: 'ok' } });

    // The whole operation failed: 503, Retry-After, the documented code and nothing internal.
    const failed = await users();
    expect(failed.status).toBe(503);
    expect(failed.code).toBe('SERVICE_UNAVAILABLE');
    expect(failed.data).toBeNull();
    expect(Number(failed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(failed.errors?.[0]).toMatchObject({ message: 'The service is temporarily unavailable. Try again shortly.' });
    expect(JSON.stringify(failed.errors)).not.toMatch(/ECONNREFUSED|prisma|postgres|terminated|stack/i);

    // Part of it succeeded (the policy snapshot is still fresh): 200, with the failed field's code.
    const partial = await viewerAndTypename();
    expect(partial).toMatchObject({ status: 200, data: { __typename: 'Query', viewer: null }, code: 'SERVICE_UNAVAILABLE' });

    await pg.start();
    expect(
      await eventually(
        () => probe('/readyz'),
        (r) => r.status === 200,
      ),
    ).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await eventually(users, (r) => r.status === 200)).toMatchObject({ status: 200, errors: undefined });
    expect((await viewerAndTypename()).data).toEqual({ __typename: 'Query', viewer: { id: user.id } });
  }, 60_000);
});
