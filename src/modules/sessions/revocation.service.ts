import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log/logger.ts';
import type { PubSub } from '../../pubsub/pubsub.ts';

export const REVOCATIONS_TOPIC = 'session-revocations';

export interface Revocation {
  sessionId: string;
  revokedAt: Date;
}

/**
 * Revocation stamps come from each instance's clock and commit a moment after they are taken, so
 * every poll re-reads this far back; it also absorbs that much clock skew between instances.
 */
const POLL_OVERLAP_MS = 30_000;
/** Access tokens issued in the instant a session was revoked live a little past revokedAt + TTL. */
const KEEP_MARGIN_MS = 60_000;
const MAX_MESSAGE_SESSIONS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The sessions revoked within the last ACCESS_TOKEN_TTL, held in memory so that refusing a
 * revoked session's access token costs no database round trip. Loaded at start, then kept current
 * three ways: this instance's own revocations at once, other instances' through Redis pub/sub
 * (when REDIS_URL is set) within milliseconds, and a cheap indexed poll for revocations newer than
 * the last poll every REVOCATION_POLL_INTERVAL, which also covers lost messages and Redis outages.
 */
export class RevocationService {
  private readonly revoked = new Map<string, number>();
  private lastPollStartedAt = 0;
  private polling: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly pubsub: PubSub | null = null,
  ) {}

  async start(): Promise<void> {
    await this.pubsub?.subscribe(REVOCATIONS_TOPIC, (message) => this.receive(message));
    await this.poll(new Date(Date.now() - this.keepMs()));
    this.timer = setInterval(() => void this.pollShared(), this.config.revocation.pollSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Call after revocations are committed: applies them here at once and tells the other instances. */
  async record(revocations: readonly Revocation[]): Promise<void> {
    if (revocations.length === 0) return;
    this.add(revocations.map((r) => [r.sessionId, r.revokedAt.getTime()]));
    const message = JSON.stringify({ v: 1, sessions: revocations.map((r) => [r.sessionId, r.revokedAt.getTime()]) });
    // Best effort: the other instances' polling picks the revocation up if the message is lost.
    await this.pubsub?.publish(REVOCATIONS_TOPIC, message).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'publishing a revocation failed; other instances will see it by polling');
    });
  }

  private keepMs(): number {
    return this.config.tokens.accessTtlSeconds * 1000 + KEEP_MARGIN_MS;
  }

  private pollShared(): Promise<void> {
    this.polling ??= this.poll(new Date(this.lastPollStartedAt - POLL_OVERLAP_MS))
      .catch((error: unknown) => this.logger.error({ err: error }, 'polling revocations failed'))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async poll(since: Date): Promise<void> {
    const startedAt = Date.now();
    const rows = await this.db.session.findMany({
      where: { revokedAt: { gte: since } },
      select: { id: true, revokedAt: true },
    });
    this.add(rows.map((r) => [r.id, (r.revokedAt as Date).getTime()]));
    this.lastPollStartedAt = startedAt;
    this.prune();
  }

  private receive(message: string): void {
    const entries = parseMessage(message);
    if (entries) this.add(entries);
    else this.logger.warn('ignored a malformed revocation message');
  }

  private add(entries: readonly (readonly [string, number])[]): void {
    for (const [sessionId, revokedAt] of entries) this.revoked.set(sessionId, revokedAt);
  }

  private prune(): void {
    const cutoff = Date.now() - this.keepMs();
    for (const [sessionId, revokedAt] of this.revoked) if (revokedAt < cutoff) this.revoked.delete(sessionId);
  }
}

/** Messages come over the network: anything not exactly of our shape is dropped. */
function parseMessage(message: string): [string, number][] | null {
  try {
    const parsed = JSON.parse(message) as unknown;
    if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== 1) return null;
    const sessions = (parsed as { sessions?: unknown }).sessions;
    if (!Array.isArray(sessions) || sessions.length > MAX_MESSAGE_SESSIONS) return null;
    const ok = sessions.every(
      (e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && UUID.test(e[0]) && Number.isSafeInteger(e[1]),
    );
    return ok ? (sessions as [string, number][]) : null;
  } catch {
    return null;
  }
}
