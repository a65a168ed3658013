import type { Config } from '../config/config.ts';
import { DecryptionError } from '../crypto/aead.ts';
import type { Database } from '../db/client.ts';
import { utc } from '../db/sql.ts';
import type { Logger } from '../log/logger.ts';
import type { MailTransport } from './mail.transport.ts';
import { openMessage } from './outbox-sealing.ts';
import { describeSendError } from './send-error.ts';

/** Rows claimed (and sent side by side) at once; a claim holds each for one send's lease. */
const BATCH = 4;
/** Never poll faster than this, even when a retry is due sooner. */
const MIN_DELAY_MS = 100;

interface ClaimedRow {
  id: string;
  kind: string;
  sealedMessage: string;
  messageId: string;
  attempts: number;
  /** The lease this claim wrote: the row is still ours while it holds it. */
  leaseUntil: Date;
}

/**
 * The background sender of one instance. It claims due rows of its EMAIL_OUTBOX_SCOPE with
 * `FOR UPDATE SKIP LOCKED` and a lease in one statement: two instances never claim the same row,
 * and a row claimed by an instance that then died is claimed again once the lease has run out.
 * A claim counts as an attempt, so even a message that crashes its sender is tried at most
 * EMAIL_MAX_ATTEMPTS times. It runs on wake() (after a commit that enqueued mail), at start, when
 * the earliest retry is due, and at least every EMAIL_OUTBOX_POLL_INTERVAL (rows other instances
 * left behind).
 *
 * Delivery is at least once: a send that reached the SMTP server but whose success was not
 * recorded (a crash in between, a lease that ran out) is sent again, with the same Message-ID.
 */
export class OutboxSender {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly settings: Config['email'];
  /** A send is bounded by nodemailer's timeouts (connect, greeting, each silence): a few of them. */
  private readonly sendBoundMs: number;
  private readonly leaseMs: number;
  /** How long stop() waits for a send in flight: it must leave SHUTDOWN_TIMEOUT room for the rest. */
  private readonly stopWaitMs: number;

  constructor(
    private readonly db: Database,
    private readonly transport: MailTransport,
    private readonly key: Uint8Array,
    config: Config,
    private readonly logger: Logger,
  ) {
    this.settings = config.email;
    this.sendBoundMs = 3 * this.settings.smtpTimeoutSeconds * 1000;
    // Long enough that a live sender always finishes (or gives up on) its send first.
    this.leaseMs = 2 * this.sendBoundMs;
    this.stopWaitMs = Math.min((this.settings.smtpTimeoutSeconds + 1) * 1000, (config.shutdown.timeoutSeconds * 1000) / 2);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Runs a pass now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /**
   * Stops claiming; a send in flight may finish for EMAIL_SMTP_TIMEOUT (and a second), at most half
   * of SHUTDOWN_TIMEOUT. A row still unsent stays in the table (leased at worst) for the next start
   * or another instance.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const running = this.running;
    if (!running) return;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise((resolve) => (timeout = setTimeout(resolve, this.stopWaitMs)))]);
    clearTimeout(timeout);
  }

  private async pass(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const rows = await this.claim();
        await Promise.all(rows.map((row) => this.deliver(row)));
        if (rows.length < BATCH) break;
      }
      this.schedule(await this.nextDueMs());
    } catch (error) {
      // The database is down or closing: try again at the next poll.
      this.logger.error({ err: error }, 'mail outbox pass failed');
      this.schedule(this.settings.pollSeconds * 1000);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(MIN_DELAY_MS, delayMs));
    this.timer.unref();
  }

  private async claim(): Promise<ClaimedRow[]> {
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const rows = await this.db.$queryRaw<Omit<ClaimedRow, 'leaseUntil'>[]>`
      UPDATE "MailOutbox" SET "leaseUntil" = ${utc(leaseUntil)}, "attempts" = "attempts" + 1
      WHERE "id" IN (
        SELECT "id" FROM "MailOutbox"
        WHERE "scope" = ${this.settings.outboxScope} AND "status" = 'PENDING' AND "nextAttemptAt" <= ${utc(now)}
          AND ("leaseUntil" IS NULL OR "leaseUntil" <= ${utc(now)})
        ORDER BY "nextAttemptAt"
        LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      RETURNING "id", "kind", "sealedMessage", "messageId", "attempts"`;
    return rows.map((row) => ({ ...row, leaseUntil }));
  }

  /** How long until the earliest pending row may be claimed, at most the poll interval. */
  private async nextDueMs(): Promise<number> {
    const poll = this.settings.pollSeconds * 1000;
    const next = await this.db.mailOutbox.findFirst({
      where: { scope: this.settings.outboxScope, status: 'PENDING' },
      orderBy: { nextAttemptAt: 'asc' },
      select: { nextAttemptAt: true, leaseUntil: true },
    });
    if (!next) return poll;
    const due = Math.max(next.nextAttemptAt.getTime(), next.leaseUntil?.getTime() ?? 0);
    return Math.min(poll, due - Date.now());
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    // Only while the claim is still ours: every claim writes its own lease time (an administrator's
    // retry resets the attempt count, so that alone could match a later claim).
    const ours = { id: row.id, status: 'PENDING' as const, attempts: row.attempts, leaseUntil: row.leaseUntil };
    let message: ReturnType<typeof openMessage>;
    try {
      message = openMessage(this.key, row.id, row.sealedMessage);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      // Sealed under another SECRET: no retry can help.
      await this.db.mailOutbox.updateMany({
        where: ours,
        data: { status: 'FAILED', failedAt: new Date(), leaseUntil: null, lastError: 'cannot be decrypted (was SECRET changed?)' },
      });
      this.logger.error({ mailId: row.id, kind: row.kind }, 'outbox mail cannot be decrypted: marked failed');
      return;
    }
    try {
      await this.transport.send({ ...message, messageId: row.messageId });
    } catch (error) {
      await this.recordFailure(row, describeSendError(error));
      return;
    }
    // Sent: the content (a reset link, say) is no longer needed, so it is erased at once.
    await this.db.mailOutbox.updateMany({
      where: ours,
      data: { status: 'SENT', sentAt: new Date(), leaseUntil: null, sealedMessage: '' },
    });
    this.logger.info({ mailId: row.id, kind: row.kind, attempts: row.attempts }, 'mail sent');
  }

  private async recordFailure(row: ClaimedRow, lastError: string): Promise<void> {
    const ours = { id: row.id, status: 'PENDING' as const, attempts: row.attempts, leaseUntil: row.leaseUntil };
    const fields = { mailId: row.id, kind: row.kind, attempts: row.attempts, error: lastError };
    if (row.attempts >= this.settings.maxAttempts) {
      await this.db.mailOutbox.updateMany({ where: ours, data: { status: 'FAILED', failedAt: new Date(), leaseUntil: null, lastError } });
      this.logger.error(fields, 'mail could not be sent: gave up after the last attempt');
      return;
    }
    const delayMs = this.retryDelaySeconds(row.attempts) * 1000;
    const nextAttemptAt = new Date(Date.now() + delayMs);
    await this.db.mailOutbox.updateMany({ where: ours, data: { nextAttemptAt, leaseUntil: null, lastError } });
    this.logger.warn({ ...fields, retryInSeconds: delayMs / 1000 }, 'mail send failed; will retry');
  }

  /** EMAIL_RETRY_BASE after the first failure, doubling each time, at most EMAIL_RETRY_MAX. */
  private retryDelaySeconds(attempts: number): number {
    return Math.min(this.settings.retryBaseSeconds * 2 ** Math.min(attempts - 1, 30), this.settings.retryMaxSeconds);
  }
}
