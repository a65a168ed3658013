import { createHmac, randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.ts';
import { queryRows, statement } from '../../db/raw.ts';
import type { Logger } from '../../log/logger.ts';
import { accountSubject } from '../rate-limits/subject-key.ts';
import type { AuthEventInput } from './auth-event-types.ts';

/** How often buffered events are written; also the most an event waits when traffic is light. */
const FLUSH_INTERVAL_MS = 1000;
/** A batch this large is written at once instead of waiting for the timer. */
const BATCH_SIZE = 200;
/** Events kept while the database refuses them; past this the oldest are dropped (and counted in the log). */
const MAX_BUFFERED = 50_000;
const USER_AGENT_MAX = 512;
const DETAIL_STRING_MAX = 200;

interface Row {
  createdAt: Date;
  type: string;
  outcome: string;
  userId: string | null;
  actorId: string | null;
  sessionId: string | null;
  subjectHash: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | undefined;
}

/**
 * The writer of the audit trail. record() only appends to an in-memory buffer, so no request waits
 * for the database; the buffer is written in batches (one INSERT per batch) every second, at once
 * when a batch is full, and on close() — the server's shutdown calls it after the last request was
 * answered, so events of a clean shutdown are not lost. A failed write keeps the events for the
 * next attempt (bounded by MAX_BUFFERED).
 */
export class AuditLog {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private dropped = 0;
  private closed = false;

  constructor(
    private readonly db: Database,
    /** HMAC key for addresses typed at login or reset (derived from SECRET). */
    private readonly emailKey: Uint8Array,
    private readonly logger: Logger,
    /** Told of every event as it is recorded (the metrics counters). */
    private readonly onRecord: (event: AuthEventInput) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Keeps the event for the next batch; never throws, never waits. */
  record(event: AuthEventInput): void {
    const outcome = event.outcome ?? 'success';
    this.onRecord({ ...event, outcome });
    this.buffer.push({
      createdAt: new Date(),
      type: event.type,
      outcome,
      userId: event.userId ?? null,
      actorId: event.actorId ?? null,
      sessionId: event.sessionId ?? null,
      subjectHash: event.email ? this.hashEmail(event.email) : null,
      ip: event.ip ?? null,
      userAgent: event.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      details: event.details ? trimDetails(event.details) : undefined,
    });
    if (this.buffer.length > MAX_BUFFERED) {
      this.dropped += this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    }
    if (this.buffer.length >= BATCH_SIZE || this.closed) void this.flush();
  }

  /** The keyed hash an unknown address is stored as: the same address always gives the same value. */
  hashEmail(email: string): string {
    return createHmac('sha256', this.emailKey).update(accountSubject(email)).digest('base64url');
  }

  /** Writes everything buffered so far; concurrent calls share one write at a time. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.buffer.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = null;
    });
    await this.writing;
  }

  /** Stops the timer and writes what is left (the server's shutdown, after the last response). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    if (this.buffer.length > 0) this.logger.error({ lost: this.buffer.length }, 'audit events could not be written before shutdown');
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, BATCH_SIZE);
      try {
        await insertEvents(this.db, batch);
      } catch (error) {
        this.logger.error({ err: error, pending: this.buffer.length }, 'could not write audit events; will retry');
        return;
      }
      this.buffer.splice(0, batch.length);
      if (this.dropped > 0) {
        this.logger.error({ dropped: this.dropped }, 'audit events were dropped while the database refused writes');
        this.dropped = 0;
      }
    }
  }
}

const INSERT_EVENTS = statement(
  'audit.insert-events',
  `INSERT INTO "AuthEvent" ("id", "createdAt", "type", "outcome", "userId", "actorId", "sessionId", "subjectHash", "ip", "userAgent", "details")
   SELECT e.id, e.at AT TIME ZONE 'UTC', e.type, e.outcome, e.user_id, e.actor_id, e.session_id, e.subject_hash, e.ip, e.user_agent, e.details
   FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::text[], $11::jsonb[])
     AS e(id, at, type, outcome, user_id, actor_id, session_id, subject_hash, ip, user_agent, details)`,
);

/**
 * One INSERT for a batch, each column passed as one array parameter: a prepared statement on the
 * pool (see db/raw.ts). Prisma's createMany compiled its query anew for every batch (in its wasm
 * query compiler), a tenth of the main thread's time under a load of refreshes (issue #16).
 */
async function insertEvents(db: Database, rows: readonly Row[]): Promise<void> {
  const column = <T>(pick: (row: Row) => T): T[] => rows.map(pick);
  await queryRows(db, INSERT_EVENTS, [
    column(() => randomUUID()),
    column((r) => r.createdAt.toISOString()),
    column((r) => r.type),
    column((r) => r.outcome),
    column((r) => r.userId),
    column((r) => r.actorId),
    column((r) => r.sessionId),
    column((r) => r.subjectHash),
    column((r) => r.ip),
    column((r) => r.userAgent),
    column((r) => (r.details === undefined ? null : JSON.stringify(r.details))),
  ]);
}

function trimDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details).slice(0, 20)) {
    out[key] = typeof value === 'string' ? value.slice(0, DETAIL_STRING_MAX) : value;
  }
  return out;
}
