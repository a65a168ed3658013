import { decryptString, encrypt } from '../../crypto/aead.ts';
import { isUuid } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import { rowsWhere } from '../access/access.check.ts';
import type { AccessActor } from '../access/access-admin.validation.ts';
import { AUTH_EVENT_TYPES, SECURITY_EVENT_TYPES } from './auth-event-types.ts';

/** The page size of `authEvents` and `securityEvents` without `first` (the schema's default; the cost limit counts it). */
export const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;
const MAX_OWN = 50;
const CURSOR_AAD = 'auth-events-cursor';
/**
 * Newest first, a total order: events of one millisecond (a failed login and the lockout it
 * triggered) by the order they were written in, so a cursor never skips or repeats one of them.
 */
const NEWEST_FIRST: Prisma.AuthEventOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { seq: 'desc' }];

export interface AuthEventListArgs {
  first?: number | null;
  after?: string | null;
  userId?: string | null;
  type?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** Reading the audit log: the admin connection (auth_events:read) and a user's own security events. */
export class AuditService {
  constructor(
    private readonly db: Database,
    /** Seals list cursors (derived from SECRET). */
    private readonly cursorKey: Uint8Array,
  ) {}

  /** Events the actor's auth_events:read permissions cover, newest first, paged forwards. */
  async listEvents(actor: AccessActor, args: AuthEventListArgs) {
    const first = args.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `must be between 1 and ${MAX_PAGE}`);
    const searched = [args.userId != null ? 'userId' : null, args.type != null ? 'type' : null].filter((f): f is string => f !== null);
    const allowed = rowsWhere(actor.access, 'auth_events', 'read', { userId: actor.userId }, searched);
    if (!allowed) return { edges: [], hasNextPage: false };
    const where: Prisma.AuthEventWhereInput[] = [allowed];
    if (args.userId != null) {
      if (!isUuid(args.userId)) throw badInput('userId', 'must be a user id');
      where.push({ userId: args.userId });
    }
    if (args.type != null) {
      if (!(AUTH_EVENT_TYPES as readonly string[]).includes(args.type)) throw badInput('type', 'is not a known event type');
      where.push({ type: args.type });
    }
    if (args.since != null) where.push({ createdAt: { gte: args.since } });
    if (args.until != null) where.push({ createdAt: { lt: args.until } });
    if (args.after != null) {
      const cursor = this.decodeCursor(args.after);
      if (!cursor) throw badInput('after', 'is not a cursor from this list');
      where.push({ OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, seq: { lt: cursor.seq } }] });
    }
    const rows = await this.db.authEvent.findMany({
      where: { AND: where },
      orderBy: NEWEST_FIRST,
      take: first + 1,
    });
    const events = rows.slice(0, first);
    return {
      edges: events.map((node) => ({ node, cursor: this.encodeCursor(node) })),
      hasNextPage: rows.length > first,
    };
  }

  /** The user's own recent security events (sign-ins, password and 2FA changes), newest first. */
  listOwn(userId: string, first: number | null | undefined) {
    const take = first ?? DEFAULT_PAGE;
    if (!Number.isInteger(take) || take < 1 || take > MAX_OWN) throw badInput('first', `must be between 1 and ${MAX_OWN}`);
    return this.db.authEvent.findMany({
      where: { userId, type: { in: [...SECURITY_EVENT_TYPES] } },
      orderBy: NEWEST_FIRST,
      take,
      select: { id: true, createdAt: true, type: true, outcome: true, ip: true, userAgent: true, details: true },
    });
  }

  private encodeCursor(row: { createdAt: Date; seq: bigint }): string {
    return encrypt(this.cursorKey, JSON.stringify([row.createdAt.getTime(), row.seq.toString()]), CURSOR_AAD);
  }

  /** [createdAt in ms, seq as a decimal string]; a cursor of the former [ms, id] shape is refused. */
  private decodeCursor(cursor: string): { createdAt: Date; seq: bigint } | null {
    if (cursor.length > 300) return null;
    try {
      const value = JSON.parse(decryptString(this.cursorKey, cursor, CURSOR_AAD)) as unknown;
      if (!Array.isArray(value) || value.length !== 2) return null;
      const [ms, seq] = value as [unknown, unknown];
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || typeof seq !== 'string' || !/^[0-9]{1,19}$/.test(seq))
        return null;
      return { createdAt: new Date(ms), seq: BigInt(seq) };
    } catch {
      return null;
    }
  }
}
