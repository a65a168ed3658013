import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// The sweep deletes old rows of every user, so it runs on a database no other test file uses.
let database: IsolatedDatabase;
let app: TestApp;

beforeAll(async () => {
  database = await createIsolatedDatabase();
  app = await startTestApp({ DATABASE_URL: database.url, ENDED_SESSION_RETENTION: '30d' });
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);
const tokenId = (token: string) => token.split('.')[0] as string;

describe('retention sweep', () => {
  it('deletes sessions ended past the retention, exchanged tokens a day past expiry, old reset tokens and old sent or failed mails; keeps the rest', async () => {
    // A live session whose first token was exchanged long ago (its expiry backdated).
    const live = await registerAndLogin(app);
    const rotated = await app.client.request(RefreshDocument, { refreshToken: live.refreshToken });
    const current = rotated.data!.refresh.refreshToken!;
    await app.db.sessionToken.update({ where: { id: tokenId(live.refreshToken) }, data: { expiresAt: daysAgo(2) } });

    // Sessions that ended: revoked 31 days ago, expired 31 days ago, revoked 2 days ago.
    const ended = await Promise.all([registerAndLogin(app), registerAndLogin(app), registerAndLogin(app)]);
    const sessionOf = async (token: string) => (await app.db.sessionToken.findUniqueOrThrow({ where: { id: tokenId(token) } })).sessionId;
    const [oldRevoked, oldExpired, recentRevoked] = (await Promise.all(ended.map((u) => sessionOf(u.refreshToken)))) as [
      string,
      string,
      string,
    ];
    await app.db.session.update({ where: { id: oldRevoked }, data: { revokedAt: daysAgo(31), revokedReason: 'logout' } });
    await app.db.session.update({ where: { id: oldExpired }, data: { expiresAt: daysAgo(31) } });
    await app.db.session.update({ where: { id: recentRevoked }, data: { revokedAt: daysAgo(2), revokedReason: 'logout' } });

    // Reset tokens: one used two days ago, one expired two days ago, one fresh.
    const reset = (data: { usedAt?: Date; expiresAt: Date }) =>
      app.db.passwordResetToken.create({ data: { userId: live.id, secretHash: 'x'.repeat(64), ...data } });
    const [usedReset, expiredReset, freshReset] = await Promise.all([
      reset({ usedAt: daysAgo(2), expiresAt: daysAgo(2) }),
      reset({ expiresAt: daysAgo(2) }),
      reset({ expiresAt: new Date(Date.now() + 3_600_000) }),
    ]);

    // Outbox mails: sent two days ago, sent an hour ago, failed eight days ago, failed two days ago, pending for long.
    const mail = (status: 'PENDING' | 'SENT' | 'FAILED', at: Date) => {
      const id = randomUUID();
      return app.db.mailOutbox.create({
        data: {
          id,
          scope: 'retention-test',
          kind: 'password-reset',
          status,
          sealedMessage: status === 'SENT' ? '' : 'v1.x.y.z',
          messageId: `<${id}@retention.test>`,
          nextAttemptAt: at,
          createdAt: at,
          sentAt: status === 'SENT' ? at : null,
          failedAt: status === 'FAILED' ? at : null,
        },
      });
    };
    const [oldSent, recentSent, oldFailed, recentFailed, oldPending] = await Promise.all([
      mail('SENT', daysAgo(2)),
      mail('SENT', new Date(Date.now() - 3_600_000)),
      mail('FAILED', daysAgo(8)),
      mail('FAILED', daysAgo(2)),
      mail('PENDING', daysAgo(30)),
    ]);

    // Audit events: one past AUTH_EVENT_RETENTION (90 days), one just inside it.
    const event = (days: number) =>
      app.db.authEvent.create({ data: { type: 'login.succeeded', outcome: 'success', userId: live.id, createdAt: daysAgo(days) } });
    const [oldEvent, keptEvent] = await Promise.all([event(91), event(89)]);

    const result = await app.services.retention.sweep();
    expect(result).toEqual({ sessions: 2, sessionTokens: 1, resetTokens: 2, sentMails: 1, failedMails: 1, loginCodes: 0, authEvents: 1 });
    const mailIds = (await app.db.mailOutbox.findMany({ select: { id: true } })).map((m) => m.id).sort();
    expect(mailIds).toEqual([recentSent.id, recentFailed.id, oldPending.id].sort());
    expect(mailIds).not.toContain(oldSent.id);
    expect(mailIds).not.toContain(oldFailed.id);
    expect(await app.db.authEvent.count({ where: { id: oldEvent.id } })).toBe(0);
    expect(await app.db.authEvent.count({ where: { id: keptEvent.id } })).toBe(1);

    expect(await app.db.session.count({ where: { id: { in: [oldRevoked, oldExpired] } } })).toBe(0);
    expect(await app.db.sessionToken.count({ where: { sessionId: { in: [oldRevoked, oldExpired] } } })).toBe(0);
    expect(await app.db.session.count({ where: { id: recentRevoked } })).toBe(1);
    expect(await app.db.sessionToken.count({ where: { id: tokenId(live.refreshToken) } })).toBe(0);
    expect(await app.db.passwordResetToken.count({ where: { id: { in: [usedReset.id, expiredReset.id] } } })).toBe(0);
    expect(await app.db.passwordResetToken.count({ where: { id: freshReset.id } })).toBe(1);

    // The live session goes on: its current token refreshes and its access token works.
    const next = await app.client.request(RefreshDocument, { refreshToken: current });
    expect(next.errors).toBeUndefined();
    expect((await app.client.request(ViewerDocument, {}, { token: next.data!.refresh.accessToken! })).data?.viewer?.id).toBe(live.id);

    // Nothing left to do: a second sweep deletes nothing.
    expect(await app.services.retention.sweep()).toEqual({
      sessions: 0,
      sessionTokens: 0,
      resetTokens: 0,
      sentMails: 0,
      failedMails: 0,
      loginCodes: 0,
      authEvents: 0,
    });
  });

  it('refuses a retention shorter than a day', async () => {
    await expect(startTestApp({ DATABASE_URL: database.url, ENDED_SESSION_RETENTION: '1h' })).rejects.toThrow(/ENDED_SESSION_RETENTION/);
  });
});
