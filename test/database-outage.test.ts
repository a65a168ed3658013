import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivatePostgres, startPrivatePostgres } from './helpers/private-postgres.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// A database outage, on a PostgreSQL server of the test's own that it stops and starts again.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let pg: PrivatePostgres | null;
let app: TestApp;
beforeAll(async () => {
  pg = await startPrivatePostgres();
  if (!pg) return;
  app = await startTestApp({ DATABASE_URL: pg.url, ACCESS_SNAPSHOT_MAX_STALENESS: '8s' });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await pg?.cleanup();
});

describe('the policy snapshot during a database outage', () => {
  it('keeps serving anonymous requests from the last good snapshot, then fails closed after ACCESS_SNAPSHOT_MAX_STALENESS', async (ctx) => {
    if (!pg) return ctx.skip('no PostgreSQL server binaries under /usr/lib/postgresql: the outage cannot be staged');
    const typename = () => app.client.raw({ query: '{ __typename }' });
    expect((await typename()).data).toEqual({ __typename: 'Query' });
    const loadedBefore = Date.now();

    await pg.stop();
    await sleep(6000); // past the snapshot's 5 s refresh: it is stale, and cannot be reloaded
    expect(await typename()).toMatchObject({ status: 200, data: { __typename: 'Query' }, errors: undefined });

    await sleep(Math.max(0, loadedBefore + 8500 - Date.now())); // past the staleness bound
    const closed = await typename();
    expect(closed.data ?? null).toBeNull();
    expect(closed.errors?.length).toBeGreaterThan(0);
    // An outage, said as one: the documented code, 503 and when to retry.
    expect(closed).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(Number(closed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.stringify(closed.errors)).not.toMatch(/ECONNREFUSED|prisma|postgres|stack/i);

    await pg.start();
    let recovered = await typename();
    for (let i = 0; i < 50 && !recovered.data; i++) {
      await sleep(200);
      recovered = await typename();
    }
    expect(recovered).toMatchObject({ status: 200, data: { __typename: 'Query' }, errors: undefined });
  }, 60_000);
});
