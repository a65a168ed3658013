import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ParsedMail } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import type { Database } from '../src/db/client.ts';
import { MailOutboxDocument, RequestPasswordResetDocument, RetryMailDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { freePort } from './helpers/free-port.ts';
import { type SmtpCatcher, startSmtpCatcher } from './helpers/smtp-catcher.ts';
import { startTestApp, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Mail goes through the outbox table: written with the row that causes it, sent by a background
// sender. These tests stop and start a real SMTP server under a running Gatehouse, share one
// outbox between two instances, and make every send fail, then look at what arrived (counted by
// Message-ID), at the rows, and at what administrators see.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Retries within a second or two, so a test sees several attempts. */
const FAST_RETRIES = { EMAIL_RETRY_BASE: '1s', EMAIL_RETRY_MAX: '2s', EMAIL_OUTBOX_POLL_INTERVAL: '1s' };

async function app(env: Record<string, string>, options: Parameters<typeof startTestApp>[1] = {}): Promise<TestApp> {
  const started = await startTestApp(env, options);
  cleanups.push(() => started.close());
  return started;
}

async function catcher(options: Parameters<typeof startSmtpCatcher>[0] = {}): Promise<SmtpCatcher> {
  const started = await startSmtpCatcher(options);
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await started.close();
  });
  return {
    ...started,
    close: async () => {
      closed = true;
      await started.close();
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const rowsOf = (db: Database, scope: string) => db.mailOutbox.findMany({ where: { scope }, orderBy: { createdAt: 'asc' } });

/** How many times each Message-ID arrived. */
function arrivals(messages: ParsedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.messageId ?? '', (counts.get(m.messageId ?? '') ?? 0) + 1);
  return counts;
}

describe('mail outbox', () => {
  it('answers resets unchanged while SMTP is down, and delivers every mail exactly once when it is back', async () => {
    const port = await freePort();
    const gatehouse = await app({ EMAIL_SMTP_URL: `smtp://127.0.0.1:${port}`, ...FAST_RETRIES });
    const scope = gatehouse.config.email.outboxScope;
    const users = await Promise.all([registerUser(gatehouse), registerUser(gatehouse), registerUser(gatehouse)]);

    const answers = await Promise.all(
      [...users.map((u) => u.email), uniqueEmail('nobody')].map((email) =>
        gatehouse.client.request(RequestPasswordResetDocument, { email }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ requestPasswordReset: true });
    }

    // Every token has its mail row; each was tried and failed, and waits for its retry.
    const failing = await until('three failed attempts', async () => {
      const rows = await rowsOf(gatehouse.db, scope);
      return rows.length === 3 && rows.every((r) => r.attempts >= 1 && r.lastError) && rows;
    });
    expect(await gatehouse.db.passwordResetToken.count({ where: { userId: { in: users.map((u) => u.id) } } })).toBe(3);
    for (const row of failing) {
      expect(row.status).toBe('PENDING');
      expect(row.kind).toBe('password-reset');
      expect(row.lastError).toMatch(/ESOCKET|ECONNECTION|ECONNREFUSED/);
    }

    const smtp = await catcher({ port });
    await Promise.all(users.map((u) => smtp.waitForMail(u.email, 30_000)));
    const sent = await until('all rows sent', async () => {
      const rows = await rowsOf(gatehouse.db, scope);
      return rows.every((r) => r.status === 'SENT') && rows;
    });
    // A further poll or two sends nothing again.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(smtp.messages).toHaveLength(3);
    expect(arrivals(smtp.messages)).toEqual(new Map(sent.map((r) => [r.messageId, 1])));
    for (const mail of smtp.messages) {
      expect(mail.text).toMatch(/token=/);
      expect(mail.html).toContain('Reset your password');
    }
    // A sent row keeps no content.
    expect(sent.every((r) => r.sealedMessage === '' && r.sentAt !== null && r.leaseUntil === null)).toBe(true);
  });

  it('stores no readable address, subject or link in the table', async () => {
    const port = await freePort(); // nothing listens: the row stays with its content
    const gatehouse = await app({ EMAIL_SMTP_URL: `smtp://127.0.0.1:${port}`, ...FAST_RETRIES });
    const user = await registerUser(gatehouse);
    await gatehouse.client.request(RequestPasswordResetDocument, { email: user.email });
    const scope = gatehouse.config.email.outboxScope;
    const [raw] = await until('the outbox row', () =>
      gatehouse.db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM "MailOutbox" WHERE "scope" = ${scope}`.then((r) => r.length > 0 && r),
    );
    const text = JSON.stringify(raw);
    expect(text).not.toContain(user.email);
    expect(text).not.toContain(user.email.split('@')[0]);
    expect(text).not.toMatch(/reset-password|token=|Reset your password|http/i);
    expect(String(raw?.sealedMessage)).toMatch(/^v1\./);
  });

  it('sends each mail once when two instances share one outbox', async () => {
    const port = await freePort();
    const shared = { EMAIL_SMTP_URL: `smtp://127.0.0.1:${port}`, EMAIL_OUTBOX_SCOPE: `shared-${randomUUID()}`, ...FAST_RETRIES };
    const [a, b] = await Promise.all([app(shared), app(shared)]);
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => registerUser(i % 2 ? a : b)));
    // Half of the resets while SMTP is down (both instances then compete for the retries), half after.
    await Promise.all(users.slice(0, 6).map((u, i) => (i % 2 ? a : b).client.request(RequestPasswordResetDocument, { email: u.email })));
    await until('the first rows tried', async () => {
      const rows = await rowsOf(a.db, shared.EMAIL_OUTBOX_SCOPE);
      return rows.length === 6 && rows.every((r) => r.attempts >= 1);
    });
    const smtp = await catcher({ port });
    await Promise.all(users.slice(6).map((u, i) => (i % 2 ? a : b).client.request(RequestPasswordResetDocument, { email: u.email })));
    await Promise.all(users.map((u) => smtp.waitForMail(u.email, 30_000)));
    const rows = await until('all rows sent', async () => {
      const all = await rowsOf(a.db, shared.EMAIL_OUTBOX_SCOPE);
      return all.length === 12 && all.every((r) => r.status === 'SENT') && all;
    });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(smtp.messages).toHaveLength(12);
    expect(arrivals(smtp.messages)).toEqual(new Map(rows.map((r) => [r.messageId, 1])));
  });

  it('gives up after EMAIL_MAX_ATTEMPTS, shows the failed mail to administrators only, and lets them retry it', async () => {
    const options = { rejectRecipients: true };
    const smtp = await catcher(options);
    const gatehouse = await app({ EMAIL_SMTP_URL: smtp.url, EMAIL_MAX_ATTEMPTS: '3', ...FAST_RETRIES });
    const user = await registerAndLogin(gatehouse);
    await gatehouse.client.request(RequestPasswordResetDocument, { email: user.email });
    const scope = gatehouse.config.email.outboxScope;
    const [failed] = await until('the row failed', async () => {
      const rows = await rowsOf(gatehouse.db, scope);
      return rows.length === 1 && rows[0]?.status === 'FAILED' && rows;
    });
    expect(failed?.attempts).toBe(3);

    const admin = await loginAsAdmin(gatehouse);
    const seen = await gatehouse.client.request(MailOutboxDocument, { status: 'FAILED' }, { token: admin });
    expect(seen.errors).toBeUndefined();
    expect(seen.data?.mailOutbox).toMatchObject({ pending: 0, sent: 0, failed: 1 });
    const [mail] = seen.data?.mailOutbox.mails ?? [];
    expect(mail).toMatchObject({ id: failed?.id, kind: 'password-reset', status: 'FAILED', attempts: 3, sentAt: null });
    expect(mail?.failedAt).toBeTruthy();
    // The server's reply is kept, without the address it quoted.
    expect(mail?.lastError).toMatch(/^EENVELOPE 550/);
    expect(JSON.stringify(seen.data)).not.toContain(user.email.split('@')[0]);

    // A user without the mail_outbox permission, and an anonymous caller, are refused.
    expect((await gatehouse.client.request(MailOutboxDocument, {}, { token: user.accessToken })).code).toBe('FORBIDDEN');
    expect((await gatehouse.client.request(MailOutboxDocument, {})).code).toBe('UNAUTHENTICATED');
    expect((await gatehouse.client.request(RetryMailDocument, { id: failed!.id }, { token: user.accessToken })).code).toBe('FORBIDDEN');
    expect((await gatehouse.client.request(RetryMailDocument, { id: randomUUID() }, { token: admin })).code).toBe('NOT_FOUND');
    expect((await gatehouse.client.request(RetryMailDocument, { id: 'not-an-id' }, { token: admin })).code).toBe('NOT_FOUND');

    // The server accepts again; an administrator puts the mail back in the queue.
    options.rejectRecipients = false;
    expect((await gatehouse.client.request(RetryMailDocument, { id: failed!.id }, { token: admin })).data).toEqual({ retryMail: true });
    const arrived = await smtp.waitForMail(user.email, 20_000);
    expect(arrived.messageId).toBe(failed?.messageId);
    await until('the row sent', async () => (await gatehouse.db.mailOutbox.findUnique({ where: { id: failed!.id } }))?.status === 'SENT');
    // Only a failed mail can be retried.
    expect((await gatehouse.client.request(RetryMailDocument, { id: failed!.id }, { token: admin })).code).toBe('NOT_FOUND');
  });

  it('lets a stale claim record nothing once an administrator retried the mail and another sender claimed it', async () => {
    // A sender paused past its lease (a stalled process) is played by an SMTP server that holds its
    // send, while the row moves on as the rest of the system would move it: the lease ran out, another
    // sender gave up on the mail, an administrator retried it, and a second instance claimed it. The
    // retry reset the attempt count, so both claims are attempt 1: only the lease tells them apart.
    const held: { html: string; release: (refusal?: Error) => void }[] = [];
    const smtp = await catcher({
      beforeAccept: (mail) =>
        String(mail.html).includes('Reset your password')
          ? new Promise((resolve) => held.push({ html: String(mail.html), release: resolve }))
          : Promise.resolve(undefined),
    });
    const logs: Record<string, unknown>[] = [];
    const logDestination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    // Long SMTP timeouts: the held sends must not time out; the leases are then minutes long.
    const shared = { EMAIL_SMTP_URL: smtp.url, EMAIL_OUTBOX_SCOPE: `stale-${randomUUID()}`, EMAIL_SMTP_TIMEOUT: '60s', ...FAST_RETRIES };
    const first = await app({ ...shared, LOG_LEVEL: 'warn' }, { logDestination });
    const user = await registerUser(first);
    await first.client.request(RequestPasswordResetDocument, { email: user.email });
    await until('the first sender’s send', async () => held.length === 1);
    const [claimedFirst] = await rowsOf(first.db, shared.EMAIL_OUTBOX_SCOPE);
    expect(claimedFirst).toMatchObject({ status: 'PENDING', attempts: 1 });

    await first.db.mailOutbox.update({
      where: { id: claimedFirst!.id },
      data: { status: 'FAILED', failedAt: new Date(), leaseUntil: null, lastError: 'ETIMEDOUT (another sender)' },
    });
    const second = await app(shared);
    const admin = await loginAsAdmin(second);
    expect((await second.client.request(RetryMailDocument, { id: claimedFirst!.id }, { token: admin })).data).toEqual({ retryMail: true });
    await until('the second sender’s send', async () => held.length === 2);
    const claimedSecond = await second.db.mailOutbox.findUniqueOrThrow({ where: { id: claimedFirst!.id } });
    expect(claimedSecond).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(claimedSecond.leaseUntil!.getTime()).toBeGreaterThan(claimedFirst!.leaseUntil!.getTime());

    // The stale send fails now. Its claim is no longer the row's: the second claim keeps its lease, so
    // no third sender can take the mail while the second is still sending it.
    held[0]!.release(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
    await until('the first sender’s failure', async () => logs.some((line) => line.msg === 'mail send failed; will retry'));
    expect(await first.db.mailOutbox.findUniqueOrThrow({ where: { id: claimedFirst!.id } })).toEqual(claimedSecond);

    held[1]!.release();
    const sent = await until('the row sent', async () => {
      const row = await first.db.mailOutbox.findUniqueOrThrow({ where: { id: claimedFirst!.id } });
      return row.status === 'SENT' && row;
    });
    expect(sent).toMatchObject({ attempts: 1, leaseUntil: null, sealedMessage: '' });
    // A poll or two later: the mail arrived once, from the second claim.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(held).toHaveLength(2);
    expect(arrivals(smtp.messages)).toEqual(new Map([[claimedFirst!.messageId, 1]]));
  });

  it('reports retry settings that contradict each other', () => {
    expect(() => loadConfig({ EMAIL_RETRY_BASE: '10m', EMAIL_RETRY_MAX: '1m' })).toThrow(
      /EMAIL_RETRY_BASE: must not exceed EMAIL_RETRY_MAX/,
    );
    expect(() => loadConfig({ EMAIL_MAX_ATTEMPTS: '0', EMAIL_OUTBOX_SCOPE: 'no spaces' })).toThrow(
      /EMAIL_MAX_ATTEMPTS[\s\S]*EMAIL_OUTBOX_SCOPE/,
    );
  });
});
