import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { InviteUserDocument, RefreshDocument, SelfRegisterDocument, ViewerDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { waitForNthMail } from './helpers/mail-links.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

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
    expect(result).toEqual({
      sessions: 2,
      sessionTokens: 1,
      resetTokens: 2,
      sentMails: 1,
      failedMails: 1,
      loginCodes: 0,
      authEvents: 1,
      unconfirmedUsers: 0,
      emailTokens: 0,
    });
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
      unconfirmedUsers: 0,
      emailTokens: 0,
    });
  });

  it('deletes accounts never confirmed a week after their last link expired, and used or expired link tokens a day after; keeps every account that was confirmed, signed in or sent a new link', async () => {
    const admin = await loginAsAdmin(app);
    const register = async (email: string, nth = 1) => {
      expect((await app.client.request(SelfRegisterDocument, { email, password: TEST_PASSWORD })).data?.register).toBe(true);
      await waitForNthMail(app.smtp, email, nth);
      return app.db.user.findUniqueOrThrow({ where: { email } });
    };
    const invite = async (email: string, nth = 1) => {
      expect((await app.client.request(InviteUserDocument, { email }, { token: admin })).data?.inviteUser).toBe(true);
      await waitForNthMail(app.smtp, email, nth);
      return app.db.user.findUniqueOrThrow({ where: { email } });
    };
    /** As if the account's links were mailed `days + 1` days ago and expired `days` ago, and the row not touched since. */
    const linksExpired = async (userId: string, days: number) => {
      await app.db.emailToken.updateMany({ where: { userId }, data: { createdAt: daysAgo(days + 1), expiresAt: daysAgo(days) } });
      await app.db.user.update({ where: { id: userId }, data: { createdAt: daysAgo(days + 1), updatedAt: daysAgo(days + 1) } });
    };

    // Registered, link expired 8 days ago (UNCONFIRMED_ACCOUNT_RETENTION: 7d by default): deleted.
    const abandoned = await register(uniqueEmail('abandoned'));
    await linksExpired(abandoned.id, 8);
    // Registered, link expired 6 days ago: kept, with its pending link.
    const recent = await register(uniqueEmail('recent'));
    await linksExpired(recent.id, 6);
    // Invited, link expired 8 days ago: deleted.
    const ignored = await invite(uniqueEmail('ignored'));
    await linksExpired(ignored.id, 8);
    // Invited long ago, then invited again: kept.
    const reinvitedEmail = uniqueEmail('reinvited');
    const reinvited = await invite(reinvitedEmail);
    await linksExpired(reinvited.id, 8);
    await invite(reinvitedEmail, 2);
    // Registered long ago, then registered again (a new password, a new link): kept.
    const againEmail = uniqueEmail('again');
    const again = await register(againEmail);
    await linksExpired(again.id, 8);
    await register(againEmail, 2);
    // Proved the address once (emailVerifiedAt), since set back to UNVERIFIED: kept.
    const verified = await register(uniqueEmail('verified'));
    await app.db.user.update({ where: { id: verified.id }, data: { emailVerifiedAt: daysAgo(20) } });
    await linksExpired(verified.id, 8);
    // Signed in once (a session row), since set back to UNVERIFIED with a link that expired: kept.
    const signedIn = await registerAndLogin(app);
    await app.db.user.update({ where: { id: signedIn.id }, data: { status: 'UNVERIFIED' } });
    const token = (userId: string, email: string, data: { usedAt?: Date; expiresAt: Date }) =>
      app.db.emailToken.create({
        data: { id: randomUUID(), kind: 'VERIFY_EMAIL', userId, email, secretHash: 'x'.repeat(64), credentialVersion: 0, ...data },
      });
    await token(signedIn.id, signedIn.email, { expiresAt: daysAgo(8) });
    await linksExpired(signedIn.id, 8);
    // Set to INVITED by an administrator, no link ever mailed: kept (theirs to delete).
    const noLink = await app.db.user.create({ data: { email: uniqueEmail('nolink'), status: 'INVITED' } });
    await linksExpired(noLink.id, 30);

    // Link tokens of an active account: used two days ago, expired two days ago (deleted), fresh (kept).
    const owner = await registerAndLogin(app);
    const [, , freshToken] = await Promise.all([
      token(owner.id, owner.email, { usedAt: daysAgo(2), expiresAt: daysAgo(1) }),
      token(owner.id, owner.email, { expiresAt: daysAgo(2) }),
      token(owner.id, owner.email, { expiresAt: new Date(Date.now() + DAY) }),
    ]);

    const result = await app.services.retention.sweep();
    // Tokens: the owner's used and expired ones, and the first links of the re-invited and re-registered
    // accounts (voided by the new ones, expired 8 days ago); the abandoned accounts' went with them.
    expect(result).toMatchObject({ unconfirmedUsers: 2, emailTokens: 4 });
    const left = async (ids: string[]) =>
      (await app.db.user.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((u) => u.id);
    expect(await left([abandoned.id, ignored.id])).toEqual([]);
    const kept = [recent.id, reinvited.id, again.id, verified.id, signedIn.id, noLink.id];
    expect((await left(kept)).sort()).toEqual([...kept].sort());
    expect(await app.db.emailToken.count({ where: { userId: { in: [abandoned.id, ignored.id] } } })).toBe(0);
    for (const { id } of [recent, reinvited, again]) {
      expect(await app.db.emailToken.count({ where: { userId: id } })).toBe(1);
      expect(await app.db.emailToken.count({ where: { userId: id, usedAt: null } })).toBe(1);
    }
    expect((await app.db.emailToken.findMany({ where: { userId: owner.id }, select: { id: true } })).map((t) => t.id)).toEqual([
      freshToken.id,
    ]);

    // The abandoned address registers afresh: a new account and a new link.
    const fresh = await register(abandoned.email, 2);
    expect(fresh.id).not.toBe(abandoned.id);
    expect(fresh.status).toBe('UNVERIFIED');
    expect(await app.services.retention.sweep()).toMatchObject({ unconfirmedUsers: 0, emailTokens: 0 });
  });

  it('reads UNCONFIRMED_ACCOUNT_RETENTION as a duration of at least a day, or off', () => {
    expect(loadConfig({}).retention.unconfirmedAccountSeconds).toBe(7 * 86_400);
    expect(loadConfig({ UNCONFIRMED_ACCOUNT_RETENTION: '30d' }).retention.unconfirmedAccountSeconds).toBe(30 * 86_400);
    expect(loadConfig({ UNCONFIRMED_ACCOUNT_RETENTION: 'off' }).retention.unconfirmedAccountSeconds).toBeNull();
    expect(() => loadConfig({ UNCONFIRMED_ACCOUNT_RETENTION: '1h' })).toThrow(/UNCONFIRMED_ACCOUNT_RETENTION/);
  });

  it('refuses a retention shorter than a day', async () => {
    await expect(startTestApp({ DATABASE_URL: database.url, ENDED_SESSION_RETENTION: '1h' })).rejects.toThrow(/ENDED_SESSION_RETENTION/);
  });
});
