import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../src/db/client.ts';
import { RegisterDocument, RequestPasswordResetDocument } from './generated/graphql.ts';
import { GraphQLTestClient } from './helpers/graphql-client.ts';
import { startServerProcess } from './helpers/server-process.ts';
import { startSmtpCatcher } from './helpers/smtp-catcher.ts';
import { TEST_PASSWORD, uniqueEmail } from './helpers/test-app.ts';

// A Gatehouse process killed (SIGKILL, as in a crash) after it answered a password reset, while
// its send was still in flight: the mail row stays claimed until its lease runs out, and the
// next process to start sends it, once.

const db = createDatabase(inject('databaseUrl'), 2);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await db.$disconnect();
});

/** An SMTP server that accepts connections and never says a word: a send hangs until its timeout. */
async function startSilentSmtp(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('mail outbox across a crash', () => {
  it('sends a reset mail whose sender was killed mid-send once the next process starts', { timeout: 180_000 }, async () => {
    const scope = `crash-${randomUUID()}`;
    const silent = await startSilentSmtp();
    cleanups.push(() => silent.close());
    const first = await startServerProcess({ EMAIL_SMTP_URL: silent.url, EMAIL_SMTP_TIMEOUT: '5s', EMAIL_OUTBOX_SCOPE: scope });
    cleanups.push(() => first.cleanup());
    const client = new GraphQLTestClient(`${first.url}/graphql`);
    const email = uniqueEmail('crash');
    expect((await client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD } })).errors).toBeUndefined();
    const answer = await client.request(RequestPasswordResetDocument, { email });
    expect(answer.data).toEqual({ requestPasswordReset: true });

    // The sender has claimed the row and is waiting for the silent server: kill the process now.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await db.mailOutbox.findFirst({ where: { scope } });
      if (row?.leaseUntil || (row && row.attempts > 0)) break;
      if (Date.now() > deadline) throw new Error(`the row was never claimed:\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await first.kill();
    const [left] = await db.mailOutbox.findMany({ where: { scope } });
    expect(left).toMatchObject({ status: 'PENDING', attempts: 1, sentAt: null });

    const smtp = await startSmtpCatcher();
    cleanups.push(() => smtp.close());
    const second = await startServerProcess({ EMAIL_SMTP_URL: smtp.url, EMAIL_OUTBOX_SCOPE: scope, EMAIL_OUTBOX_POLL_INTERVAL: '1s' });
    cleanups.push(() => second.cleanup());
    const mail = await smtp.waitForMail(email, 90_000);
    expect(mail.subject).toBe('Reset your password');
    expect(mail.messageId).toBe(left?.messageId);
    const deadlineSent = Date.now() + 30_000;
    while ((await db.mailOutbox.findUnique({ where: { id: left!.id } }))?.status !== 'SENT') {
      if (Date.now() > deadlineSent) throw new Error('the row was never marked sent');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(smtp.messages.filter((m) => m.messageId === left?.messageId)).toHaveLength(1);
  });
});
