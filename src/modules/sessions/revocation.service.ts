import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log/logger.ts';
import type { PubSub } from '../../pubsub/pubsub.ts';
import { RecentChanges } from '../../pubsub/recent-changes.ts';

export const REVOCATIONS_TOPIC = 'session-revocations';

export interface Revocation {
  sessionId: string;
  revokedAt: Date;
}

/** Access tokens issued in the instant a session was revoked live a little past revokedAt + TTL. */
const KEEP_MARGIN_MS = 60_000;

/**
 * The sessions revoked within the last ACCESS_TOKEN_TTL, held in memory (see RecentChanges) so
 * that refusing a revoked session's access token costs no database round trip. Polls the indexed
 * `Session.revokedAt` every REVOCATION_POLL_INTERVAL. That window is enough only because no
 * accepted token lives longer than the current ACCESS_TOKEN_TTL: SigningKeyService.verify refuses
 * tokens signed for longer (under an earlier TTL, before a restart).
 */
export class RevocationService {
  private readonly view: RecentChanges;

  constructor(db: Database, config: Config, logger: Logger, pubsub: PubSub | null = null) {
    this.view = new RecentChanges({
      topic: REVOCATIONS_TOPIC,
      label: 'revocations',
      keepMs: config.tokens.accessTtlSeconds * 1000 + KEEP_MARGIN_MS,
      pollIntervalMs: config.revocation.pollSeconds * 1000,
      pubsub,
      logger,
      pollSince: async (since) => {
        const rows = await db.session.findMany({ where: { revokedAt: { gte: since } }, select: { id: true, revokedAt: true } });
        return rows.map((r) => [r.id, (r.revokedAt as Date).getTime()]);
      },
    });
  }

  start(): Promise<void> {
    return this.view.start();
  }

  stop(): void {
    this.view.stop();
  }

  isRevoked(sessionId: string): boolean {
    return this.view.stampOf(sessionId) !== undefined;
  }

  /** Call after revocations are committed: applies them here at once and tells the other instances. */
  record(revocations: readonly Revocation[]): Promise<void> {
    return this.view.record(revocations.map((r) => [r.sessionId, r.revokedAt.getTime()] as const));
  }
}
