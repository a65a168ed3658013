import type { Config } from '../../config/config.ts';
import type { Database, TransactionClient } from '../../db/client.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Logger } from '../../log/logger.ts';
import type { PubSub } from '../../pubsub/pubsub.ts';
import { RecentChanges } from '../../pubsub/recent-changes.ts';
import type { UserRowCache } from '../users/user-rows.ts';
import type { AccessService } from './access.service.ts';

export const USER_ACCESS_TOPIC = 'user-access-changes';
export const POLICIES_TOPIC = 'policy-changes';
const KEEP_MARGIN_MS = 60_000;
/** Ids per statement, well under PostgreSQL's 65,535 bind parameters. */
const STAMP_CHUNK = 10_000;

/**
 * Makes access edits count from the next request, on every instance:
 * - a policy or permission edit drops the policy snapshot here and (through Redis) on the other
 *   instances; without Redis they reload it within its 5-second lifetime;
 * - a change to which policies a user holds (their policies, their role, a role's policies or
 *   parent, a policy renamed) stamps `User.accessChangedAt`. Access tokens carry policy names, so
 *   a token issued before the stamp no longer speaks for the user: the request reads the user's
 *   policies from the database instead (one query, only for those users, until the token is
 *   refreshed). The stamps are held in memory like revocations: pub/sub plus a poll.
 */
export class AccessChanges {
  private readonly users: RecentChanges;

  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    config: Config,
    logger: Logger,
    private readonly pubsub: PubSub | null,
    private readonly userRows: UserRowCache,
  ) {
    this.users = new RecentChanges({
      topic: USER_ACCESS_TOPIC,
      label: 'user access changes',
      keepMs: config.tokens.accessTtlSeconds * 1000 + KEEP_MARGIN_MS,
      pollIntervalMs: config.revocation.pollSeconds * 1000,
      pubsub,
      logger,
      pollSince: async (since) => {
        const rows = await db.user.findMany({ where: { accessChangedAt: { gte: since } }, select: { id: true, accessChangedAt: true } });
        return rows.map((r) => [r.id, (r.accessChangedAt as Date).getTime()]);
      },
    });
  }

  async start(): Promise<void> {
    await this.pubsub?.subscribe(POLICIES_TOPIC, () => this.access.invalidate());
    await this.users.start();
  }

  stop(): void {
    this.users.stop();
  }

  /** Whether an access token issued at `issuedAtSeconds` predates a change to the user's policies. */
  isStale(userId: string, issuedAtSeconds: number): boolean {
    const stamp = this.users.stampOf(userId);
    // iat has whole seconds: a token from the same second as the change counts as stale (one extra query, never a wrong answer).
    return stamp !== undefined && issuedAtSeconds * 1000 <= stamp;
  }

  /** Stamps the matching users inside the caller's transaction; pass the result to `published` after commit. */
  async stampUsers(tx: TransactionClient, where: Prisma.UserWhereInput): Promise<[string, number][]> {
    const now = new Date();
    const rows = await tx.user.updateManyAndReturn({ where, data: { accessChangedAt: now }, select: { id: true } });
    return rows.map((r) => [r.id, now.getTime()]);
  }

  /**
   * After the edit committed: this instance and the others stop trusting stale tokens and
   * snapshots. The users are stamped again now: a token signed between the in-transaction stamp
   * and the commit still carried the old policy names, and must count as older than the stamp.
   */
  async published(stampedUsers: readonly (readonly [string, number])[], policiesChanged: boolean): Promise<void> {
    if (policiesChanged) {
      this.access.invalidate();
      await this.pubsub?.publish(POLICIES_TOPIC, '1').catch(() => undefined);
    }
    if (stampedUsers.length === 0) return;
    const ids = stampedUsers.map(([id]) => id);
    const now = new Date();
    for (let i = 0; i < ids.length; i += STAMP_CHUNK) {
      await this.db.user.updateMany({ where: { id: { in: ids.slice(i, i + STAMP_CHUNK) } }, data: { accessChangedAt: now } });
    }
    await this.users.record(ids.map((id) => [id, now.getTime()] as const));
    await this.userRows.changed(ids);
  }
}
