import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { Database, TransactionClient } from '../db/client.ts';
import type { MailOutboxStatus } from '../generated/prisma/client.ts';
import type { Logger } from '../log/logger.ts';
import type { MailMessage, MailTransport } from './mail.transport.ts';
import { OutboxSender } from './outbox.sender.ts';
import { sealMessage } from './outbox-sealing.ts';

export type OutboxMessage = MailMessage & {
  /** What the mail is about, kept in clear for operators: lowercase words and dashes ("password-reset"). */
  kind: string;
};

/** What an administrator sees of an outbox row: never the recipient, subject or body. */
export interface OutboxMailSummary {
  id: string;
  kind: string;
  status: MailOutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  sentAt: Date | null;
  failedAt: Date | null;
}

export type OutboxCounts = Record<'pending' | 'sent' | 'failed', number>;

const KIND = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Mail that is never lost. A producer writes its mail with enqueue() inside the transaction that
 * writes the row causing it (a reset token, a 2FA change), so the two commit together or not at
 * all, then calls wake() after the commit: the sender of this instance sends at once, and any
 * instance would pick the row up later otherwise (see OutboxSender). No request waits for SMTP.
 */
export class MailOutbox {
  private readonly sender: OutboxSender;
  private readonly scope: string;
  private readonly domain: string;

  constructor(
    private readonly db: Database,
    transport: MailTransport,
    private readonly key: Uint8Array,
    config: Config,
    logger: Logger,
  ) {
    this.scope = config.email.outboxScope;
    this.domain = messageIdDomain(config.email.from);
    this.sender = new OutboxSender(db, transport, key, config, logger);
  }

  /** Writes the mail inside the caller's transaction (or on its own when given the database). */
  async enqueue(tx: TransactionClient | Database, message: OutboxMessage): Promise<void> {
    if (!KIND.test(message.kind)) throw new Error(`invalid outbox mail kind: ${message.kind}`);
    const id = randomUUID();
    const now = new Date();
    await tx.mailOutbox.create({
      data: {
        id,
        scope: this.scope,
        kind: message.kind,
        sealedMessage: sealMessage(this.key, id, message),
        messageId: `<${id}@${this.domain}>`,
        nextAttemptAt: now,
        createdAt: now,
      },
    });
  }

  /** After the commit: send now rather than at the next poll. */
  /**
   * Runs `work` in one transaction (the rows and the mails it enqueues commit together), then
   * wakes the sender so the mails go out at once.
   */
  async transaction<T>(work: (tx: TransactionClient) => Promise<T>): Promise<T> {
    const result = await this.db.$transaction(work);
    this.wake();
    return result;
  }

  wake(): void {
    this.sender.wake();
  }

  start(): void {
    this.sender.start();
  }

  stop(): Promise<void> {
    return this.sender.stop();
  }

  // `allowed` is the Prisma `where` of the rows the caller may see (their permissions' row filter).

  async counts(allowed: Record<string, unknown> = {}): Promise<OutboxCounts> {
    const groups = await this.db.mailOutbox.groupBy({
      by: ['status'],
      where: { AND: [allowed, { scope: this.scope }] },
      _count: { _all: true },
    });
    const count = (status: MailOutboxStatus) => groups.find((g) => g.status === status)?._count._all ?? 0;
    return { pending: count('PENDING'), sent: count('SENT'), failed: count('FAILED') };
  }

  /** The newest rows of a status, without their content. */
  listMails(status: MailOutboxStatus, limit: number, allowed: Record<string, unknown> = {}): Promise<OutboxMailSummary[]> {
    return this.db.mailOutbox.findMany({
      where: { AND: [allowed, { scope: this.scope, status }] },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: limit,
      select: {
        id: true,
        kind: true,
        status: true,
        attempts: true,
        lastError: true,
        createdAt: true,
        nextAttemptAt: true,
        sentAt: true,
        failedAt: true,
      },
    });
  }

  /** Puts a failed mail back in the queue with a fresh set of attempts; false if no such failed row. */
  async retry(id: string, allowed: Record<string, unknown> = {}): Promise<boolean> {
    const { count } = await this.db.mailOutbox.updateMany({
      where: { AND: [allowed, { id, scope: this.scope, status: 'FAILED' }] },
      data: { status: 'PENDING', attempts: 0, nextAttemptAt: new Date(), failedAt: null, leaseUntil: null },
    });
    if (count === 1) this.wake();
    return count === 1;
  }
}

/** The Message-ID's right-hand side: EMAIL_FROM's domain, so the IDs look like the sender's own. */
function messageIdDomain(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain && domain.length <= 253 ? domain.toLowerCase() : 'gatehouse.invalid';
}
