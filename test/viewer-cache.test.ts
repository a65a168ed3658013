import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateUserDocument, ViewerDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';
import { startTestApp, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// A bearer `viewer` reads the user's row from memory (UserRowCache). These tests show that an
// edit is seen as soon as a revocation would be: at once on the instance that made it, through
// Redis on the others, and by the next poll of User.updatedAt for writes from elsewhere.

const viewerEmail = async (app: TestApp, token: string) => (await app.client.request(ViewerDocument, {}, { token })).data?.viewer?.email;

/** Whether `probe` returns true within `timeoutMs`. */
async function within(timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('on one instance', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ REVOCATION_POLL_INTERVAL: '1s' });
  });
  afterAll(() => app?.close());

  it('shows an edit made through the API at once', async () => {
    const user = await registerAndLogin(app);
    expect(await viewerEmail(app, user.accessToken)).toBe(user.email);
    const email = uniqueEmail();
    const updated = await app.client.request(UpdateUserDocument, { id: user.id, input: { email } }, { token: await loginAsAdmin(app) });
    expect(updated.errors).toBeUndefined();
    expect(await viewerEmail(app, user.accessToken)).toBe(email);
  });

  it('shows a write made by another process (straight to the database) by its next poll', async () => {
    const user = await registerAndLogin(app);
    expect(await viewerEmail(app, user.accessToken)).toBe(user.email);
    const email = uniqueEmail();
    await app.db.user.update({ where: { id: user.id }, data: { email } });
    expect(await within(5000, async () => (await viewerEmail(app, user.accessToken)) === email)).toBe(true);
  });
});

describe('across instances sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Polling once a minute: within seconds, only a Redis message can tell B.
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniqueRedisPrefix('viewer-cache'), REVOCATION_POLL_INTERVAL: '60s' };
    [a, b] = (await Promise.all([startTestApp(env), startTestApp(env)])) as [TestApp, TestApp];
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('an edit on A is shown by B without waiting for a poll', async () => {
    const user = await registerAndLogin(a);
    expect(await viewerEmail(b, user.accessToken)).toBe(user.email);
    const email = uniqueEmail();
    await a.client.request(UpdateUserDocument, { id: user.id, input: { email } }, { token: await loginAsAdmin(a) });
    expect(await within(5000, async () => (await viewerEmail(b, user.accessToken)) === email)).toBe(true);
  });
});
