import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin, registerUser } from './helpers/factories.ts';
import { findCookie } from './helpers/graphql-client.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// Refresh tokens of a session form a family: each is exchanged once. A rotated token coming back
// within REFRESH_REUSE_GRACE (a second tab, a retry) gets the successor already issued; coming back
// later it gets that successor once more only while the successor was never presented (the answer
// that carried it was lost); otherwise it proves a copy exists, and the whole session ends.
// A 1 s grace keeps these tests short.
const GRACE_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ REFRESH_REUSE_GRACE: '1s' });
});
afterAll(() => app.close());

const refresh = (refreshToken: string, mode: 'JSON' | 'SESSION' = 'JSON') => app.client.request(RefreshDocument, { refreshToken, mode });
const tokenRow = (token: string) => app.db.sessionToken.findUniqueOrThrow({ where: { id: token.split('.')[0]! } });

describe('refresh-token reuse', () => {
  it('a used token replayed after its successor was presented revokes the whole session, records why, and ends its newest tokens too', async () => {
    const user = await registerAndLogin(app);
    const next = (await refresh(user.refreshToken)).data!.refresh;
    const newest = (await refresh(next.refreshToken!)).data!.refresh;
    await sleep(GRACE_MS + 200);

    const reuse = await refresh(user.refreshToken);
    expect(reuse.code).toBe('INVALID_TOKEN');
    const session = await app.db.session.findUniqueOrThrow({ where: { id: (await tokenRow(user.refreshToken)).sessionId } });
    expect(session).toMatchObject({ revokedReason: 'refresh-token-reuse', revokedAt: expect.any(Date) });
    // The thief's (or the victim's) newest tokens are dead as well, the access token at once.
    expect((await refresh(newest.refreshToken!)).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(ViewerDocument, {}, { token: newest.accessToken! })).code).toBe('INVALID_TOKEN');
  });

  it('a used token’s id with another secret gets nothing, within the grace window or after it, and ends nothing', async () => {
    const user = await registerAndLogin(app);
    const next = (await refresh(user.refreshToken)).data!.refresh;
    const forged = `${user.refreshToken.split('.')[0]}.${'A'.repeat(43)}`;
    const within = await refresh(forged);
    expect(within.code).toBe('INVALID_TOKEN');
    expect(within.data?.refresh).toBeFalsy();
    await sleep(GRACE_MS + 200);
    const after = await refresh(forged);
    expect(after.code).toBe('INVALID_TOKEN');
    const { sessionId } = await tokenRow(user.refreshToken);
    expect((await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt).toBeNull();
    expect((await tokenRow(next.refreshToken!)).replayedAt).toBeNull();
    expect((await refresh(next.refreshToken!)).errors).toBeUndefined();
  });

  it('a lost answer: after the grace window, a token whose successor was never presented yields that successor once, and the session lives', async () => {
    const user = await registerAndLogin(app);
    const lost = (await refresh(user.refreshToken)).data!.refresh; // committed, but say the client never got it
    await sleep(GRACE_MS + 200);

    const retried = await refresh(user.refreshToken);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.refresh.refreshToken).toBe(lost.refreshToken);
    const { sessionId } = await tokenRow(user.refreshToken);
    expect((await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt).toBeNull();
    expect((await tokenRow(lost.refreshToken!)).replayedAt).toEqual(expect.any(Date));
    // The chain goes on from there.
    const onward = await refresh(retried.data!.refresh.refreshToken!);
    expect(onward.errors).toBeUndefined();
    expect((await app.client.request(ViewerDocument, {}, { token: onward.data!.refresh.accessToken! })).data?.viewer?.id).toBe(user.id);
  });

  it('a second late replay of the same token means two holders: the session is revoked', async () => {
    const user = await registerAndLogin(app);
    await refresh(user.refreshToken);
    await sleep(GRACE_MS + 200);
    expect((await refresh(user.refreshToken)).errors).toBeUndefined();
    await sleep(GRACE_MS + 200);

    expect((await refresh(user.refreshToken)).code).toBe('INVALID_TOKEN');
    const { sessionId } = await tokenRow(user.refreshToken);
    expect(await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).toMatchObject({ revokedReason: 'refresh-token-reuse' });
  });

  it.each(['victim', 'thief'] as const)(
    'a stolen token replayed late is caught at the next refresh of either party (%s refreshes first)',
    async (first) => {
      const victim = await registerAndLogin(app);
      const victimNext = (await refresh(victim.refreshToken)).data!.refresh.refreshToken!; // delivered to the victim
      await sleep(GRACE_MS + 200);
      // The thief presents the copied parent: its successor was never presented, so the thief gets it too.
      const thiefNext = (await refresh(victim.refreshToken)).data!.refresh.refreshToken!;
      expect(thiefNext).toBe(victimNext);

      const [firstToken, secondToken] = first === 'victim' ? [victimNext, thiefNext] : [thiefNext, victimNext];
      const winner = await refresh(firstToken);
      expect(winner.errors).toBeUndefined();
      await sleep(GRACE_MS + 200);
      expect((await refresh(secondToken)).code).toBe('INVALID_TOKEN');
      const { sessionId } = await tokenRow(victim.refreshToken);
      expect(await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).toMatchObject({ revokedReason: 'refresh-token-reuse' });
      expect((await app.client.request(ViewerDocument, {}, { token: winner.data!.refresh.accessToken! })).code).toBe('INVALID_TOKEN');
    },
  );

  it('within the grace window gives the same successor, kept sealed on the old row until the successor is presented', async () => {
    const user = await registerAndLogin(app);
    const first = (await refresh(user.refreshToken)).data!.refresh;
    const second = await refresh(user.refreshToken);
    expect(second.errors).toBeUndefined();
    expect(second.data!.refresh.refreshToken).toBe(first.refreshToken);
    expect((await app.client.request(ViewerDocument, {}, { token: second.data!.refresh.accessToken! })).data?.viewer?.id).toBe(user.id);
    // A successor of the other kind is not minted for a latecomer: a clean error, the session lives.
    expect((await refresh(user.refreshToken, 'SESSION')).code).toBe('INVALID_TOKEN');

    const old = await tokenRow(user.refreshToken);
    expect(old.successorId).toBe(first.refreshToken!.split('.')[0]);
    expect(old.successorCiphertext).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(old.successorCiphertext).not.toContain(first.refreshToken!.split('.')[1]);

    // Kept while the successor was never presented (a lost answer may still be retried) ...
    await sleep(GRACE_MS + 1200); // the sweep runs once per grace period
    expect((await tokenRow(user.refreshToken)).successorCiphertext).not.toBeNull();
    // ... and wiped once it was.
    expect((await refresh(first.refreshToken!)).errors).toBeUndefined();
    await sleep(GRACE_MS + 1200);
    expect((await tokenRow(user.refreshToken)).successorCiphertext).toBeNull();
    expect((await app.db.session.findUniqueOrThrow({ where: { id: old.sessionId } })).revokedAt).toBeNull();
  });

  it('concurrent refreshes of one token all receive the same successor or a clean error, never two live successors', async () => {
    const user = await registerAndLogin(app);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(user.refreshToken)));
    for (const r of results) expect(r.code ?? 'ok').toMatch(/^(ok|INVALID_TOKEN)$/);
    const issued = new Set(results.filter((r) => !r.errors).map((r) => r.data!.refresh.refreshToken));
    expect(issued.size).toBe(1);
    const { sessionId } = await tokenRow(user.refreshToken);
    expect(await app.db.sessionToken.count({ where: { sessionId, usedAt: null } })).toBe(1);
    expect((await app.db.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt).toBeNull();
  });

  it('a session cookie used in a request counts as presented: a late replay of its parent revokes the session', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const first = `gatehouse_session_token=${findCookie(login, 'gatehouse_session_token')!.value}`;
    const refreshed = await app.client.request(RefreshDocument, { mode: 'SESSION' }, { cookie: first });
    const second = `gatehouse_session_token=${findCookie(refreshed, 'gatehouse_session_token')!.value}`;
    // The victim browses with the new cookie.
    expect((await app.client.request(ViewerDocument, {}, { cookie: second })).data?.viewer?.id).toBe(user.id);
    await sleep(GRACE_MS + 200);

    const replay = await app.client.request(RefreshDocument, { mode: 'SESSION' }, { cookie: first });
    expect(replay.code).toBe('INVALID_TOKEN');
    expect(findCookie(replay, 'gatehouse_session_token')?.value ?? '').not.toBe(second.split('=')[1]);
    expect((await app.client.request(ViewerDocument, {}, { cookie: second })).data?.viewer ?? null).toBeNull();
  });

  it('in SESSION mode, a cookie refreshed twice at once yields one cookie value', async () => {
    const user = await registerUser(app);
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'SESSION' });
    const cookie = `gatehouse_session_token=${findCookie(login, 'gatehouse_session_token')!.value}`;
    const both = await Promise.all([1, 2].map(() => app.client.request(RefreshDocument, { mode: 'SESSION' }, { cookie })));
    const values = both.map((r) => findCookie(r, 'gatehouse_session_token')?.value);
    expect(values[0]).toBeTruthy();
    expect(values[1]).toBe(values[0]);
  });
});
