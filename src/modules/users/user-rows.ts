import { LRUCache } from 'lru-cache';
import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Logger } from '../../log/logger.ts';
import type { PubSub } from '../../pubsub/pubsub.ts';
import { RecentChanges } from '../../pubsub/recent-changes.ts';

export const USER_CHANGES_TOPIC = 'user-changes';

/** A user's row as the `User` type reads it: every column but the password hash, which no field shows or filters on. */
export type UserRow = Prisma.UserGetPayload<{ omit: { passwordHash: true } }>;

/** Rows held; a few MiB at most. Beyond it the least recently used go. */
const MAX_ROWS = 10_000;
/** Poll re-reads overlap by 30 s (RecentChanges): stamps are kept longer, so a re-read is no news. */
const KEEP_MS = 120_000;
/** A read slower than this is served but not cached: its invalidation marks may have been pruned. */
const MAX_READ_MS = 30_000;

/**
 * Users' rows in memory, so that a bearer `viewer { ... }` costs no database round trip. The row
 * only stands in for a read; every field is still checked against the viewer's permissions as
 * before. Entries are dropped the way revocations spread (RecentChanges): at once on this
 * instance after a write commits (the services call `changed`), within milliseconds on the
 * others through Redis pub/sub, and by a poll of the indexed `User.updatedAt` every
 * REVOCATION_POLL_INTERVAL, which also covers lost messages and writes from other processes.
 * An edit is therefore visible exactly as fast as a revocation.
 *
 * A read that began before an invalidation arrived may return the old row; it is served (as an
 * uncached read would be) but not cached, so no stale row outlives the news of its change.
 */
export class UserRowCache {
  private readonly rows = new LRUCache<string, UserRow>({ max: MAX_ROWS });
  /** `updatedAt` of each row the poll saw lately: a different value is a change, whichever clock stamped it. */
  private readonly polledStamps = new Map<string, number>();
  /** When (this instance's clock) each recently changed id was last invalidated. */
  private readonly invalidatedAt = new Map<string, number>();
  private readonly changes: RecentChanges;

  constructor(
    private readonly db: Database,
    config: Config,
    logger: Logger,
    pubsub: PubSub | null = null,
  ) {
    this.changes = new RecentChanges({
      topic: USER_CHANGES_TOPIC,
      label: 'user changes',
      keepMs: KEEP_MS,
      pollIntervalMs: config.revocation.pollSeconds * 1000,
      pubsub,
      logger,
      pollSince: async (since) => {
        const rows = await db.user.findMany({ where: { updatedAt: { gte: since } }, select: { id: true, updatedAt: true } });
        const entries = rows.map((r): [string, number] => [r.id, r.updatedAt.getTime()]);
        this.notePolled(entries);
        return entries;
      },
      onNews: (ids) => this.invalidate(ids),
    });
  }

  start(): Promise<void> {
    return this.changes.start();
  }

  stop(): void {
    this.changes.stop();
  }

  /** The user's row (a copy: callers may tag it), from memory when it is there; null when there is no such user. */
  async get(id: string): Promise<UserRow | null> {
    const cached = this.rows.get(id);
    if (cached) return { ...cached };
    const readStartedAt = Date.now();
    const row = await this.db.user.findUnique({ where: { id }, omit: { passwordHash: true } });
    const now = Date.now();
    if (row && now - readStartedAt < MAX_READ_MS && (this.invalidatedAt.get(id) ?? 0) < readStartedAt) this.rows.set(id, { ...row });
    return row;
  }

  /**
   * Call after a write to these users' rows committed (a deletion too): drops them here at once
   * and tells the other instances.
   */
  changed(ids: readonly string[]): Promise<void> {
    const now = Date.now();
    return this.changes.record(ids.map((id) => [id, now] as const));
  }

  private notePolled(entries: readonly [string, number][]): void {
    const changed = entries.filter(([id, stamp]) => this.polledStamps.get(id) !== stamp).map(([id]) => id);
    for (const [id, stamp] of entries) this.polledStamps.set(id, stamp);
    // Older than any poll re-reads: forgetting them cannot make an old row look new.
    const cutoff = Date.now() - KEEP_MS;
    for (const [id, stamp] of this.polledStamps) if (stamp < cutoff) this.polledStamps.delete(id);
    this.invalidate(changed);
  }

  private invalidate(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) {
      this.rows.delete(id);
      this.invalidatedAt.set(id, now);
    }
    // Marks matter only to reads in flight; drop old ones so the map stays small.
    if (this.invalidatedAt.size > MAX_ROWS) {
      for (const [id, at] of this.invalidatedAt) if (at < now - MAX_READ_MS) this.invalidatedAt.delete(id);
    }
  }
}
