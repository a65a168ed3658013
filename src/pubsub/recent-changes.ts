import { isUuid } from '../crypto/tokens.ts';
import type { Logger } from '../log/logger.ts';
import type { PubSub } from './pubsub.ts';

/**
 * Revocation stamps come from each instance's clock and commit a moment after they are taken, so
 * every poll re-reads this far back; it also absorbs that much clock skew between instances.
 */
const POLL_OVERLAP_MS = 30_000;
const MAX_MESSAGE_ENTRIES = 10_000;

export interface RecentChangesOptions {
  /** Pub/sub topic shared by the instances. */
  topic: string;
  /** How long an entry matters (e.g. the access-token lifetime plus a margin). */
  keepMs: number;
  pollIntervalMs: number;
  /** Rows (id, stamp) changed at or after `since`, read from the database. */
  pollSince(since: Date): Promise<[string, number][]>;
  pubsub: PubSub | null;
  logger: Logger;
  /** What the log calls these entries. */
  label: string;
  /**
   * Told of every id in this instance's own records and in other instances' messages, whatever
   * its stamp (stamps from different clocks need not move forward). Polled rows are not passed:
   * `pollSince` sees those first.
   */
  onNews?(ids: readonly string[]): void;
}

/**
 * Ids (UUIDs) stamped with the time something happened to them within the last `keepMs`, held in
 * memory so that hot paths check them without a database round trip. Loaded at start, then kept
 * current three ways: this instance's own entries at once, other instances' through Redis pub/sub
 * (when configured) within milliseconds, and a cheap indexed poll every `pollIntervalMs`, which
 * also covers lost messages and Redis outages.
 */
export class RecentChanges {
  private readonly entries = new Map<string, number>();
  private lastPollStartedAt = 0;
  private polling: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: RecentChangesOptions) {}

  async start(): Promise<void> {
    await this.options.pubsub?.subscribe(this.options.topic, (message) => this.receive(message));
    await this.poll(new Date(Date.now() - this.options.keepMs));
    this.timer = setInterval(() => void this.pollShared(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** When the id was last stamped, if within `keepMs`. */
  stampOf(id: string): number | undefined {
    return this.entries.get(id);
  }

  /** Call after the change is committed: applies it here at once and tells the other instances. */
  async record(entries: readonly (readonly [string, number])[]): Promise<void> {
    if (entries.length === 0) return;
    this.add(entries);
    this.options.onNews?.(entries.map(([id]) => id));
    for (let i = 0; i < entries.length; i += MAX_MESSAGE_ENTRIES) {
      const message = JSON.stringify({ v: 1, entries: entries.slice(i, i + MAX_MESSAGE_ENTRIES) });
      // Best effort: the other instances' polling picks the change up if the message is lost.
      await this.options.pubsub?.publish(this.options.topic, message).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, `publishing ${this.options.label} failed; other instances will see it by polling`);
      });
    }
  }

  private pollShared(): Promise<void> {
    this.polling ??= this.poll(new Date(this.lastPollStartedAt - POLL_OVERLAP_MS))
      .catch((error: unknown) => this.options.logger.error({ err: error }, `polling ${this.options.label} failed`))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async poll(since: Date): Promise<void> {
    const startedAt = Date.now();
    this.add(await this.options.pollSince(since));
    this.lastPollStartedAt = startedAt;
    this.prune();
  }

  private receive(message: string): void {
    const entries = parseMessage(message);
    if (entries) {
      this.add(entries);
      this.options.onNews?.(entries.map(([id]) => id));
    } else this.options.logger.warn(`ignored a malformed ${this.options.label} message`);
  }

  private add(entries: readonly (readonly [string, number])[]): void {
    for (const [id, stamp] of entries) if ((this.entries.get(id) ?? 0) < stamp) this.entries.set(id, stamp);
  }

  private prune(): void {
    const cutoff = Date.now() - this.options.keepMs;
    for (const [id, stamp] of this.entries) if (stamp < cutoff) this.entries.delete(id);
  }
}

/** Messages come over the network: anything not exactly of our shape is dropped. */
function parseMessage(message: string): [string, number][] | null {
  try {
    const parsed = JSON.parse(message) as unknown;
    if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== 1) return null;
    const entries = (parsed as { entries?: unknown }).entries;
    if (!Array.isArray(entries) || entries.length > MAX_MESSAGE_ENTRIES) return null;
    const ok = entries.every((e) => Array.isArray(e) && e.length === 2 && isUuid(e[0]) && Number.isSafeInteger(e[1]));
    return ok ? (entries as [string, number][]) : null;
  } catch {
    return null;
  }
}
