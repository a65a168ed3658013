import type { BackgroundTasks } from '../background.ts';
import type { Database, TransactionClient } from '../db/client.ts';
import type { MailMessage, MailTransport } from './mail.transport.ts';

/** A mail and what it is about (a label for logs and, with the outbox, for operators). */
export type QueuedMail = MailMessage & { kind: string };

/**
 * Stand-in for the durable mail outbox, with its shape: a mail is enqueued with the transaction
 * that writes the row it is about (a token, a user), and leaves only once that transaction has
 * committed, in the background so no answer waits for SMTP. A transaction that rolls back sends
 * nothing. Unlike the outbox, a mail whose send fails is logged and lost.
 */
export class AfterCommitMail {
  private readonly pending = new WeakMap<TransactionClient, QueuedMail[]>();

  constructor(
    private readonly transport: MailTransport,
    private readonly background: BackgroundTasks,
  ) {}

  async enqueue(tx: TransactionClient, message: QueuedMail): Promise<void> {
    const list = this.pending.get(tx) ?? [];
    list.push(message);
    this.pending.set(tx, list);
  }

  /** Runs `work` in one transaction, then sends the mails it enqueued. */
  async transaction<T>(db: Database, work: (tx: TransactionClient) => Promise<T>): Promise<T> {
    let handle: TransactionClient | undefined;
    const result = await db.$transaction(async (tx) => {
      handle = tx;
      return work(tx);
    });
    const mails = (handle && this.pending.get(handle)) || [];
    for (const { kind, ...message } of mails) this.background.run(`mail-${kind}`, () => this.transport.send(message));
    return result;
  }
}
