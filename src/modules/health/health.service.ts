import type { Database } from '../../db/client.ts';
import type { LimiterStore } from '../rate-limits/limiter-store.ts';

/** Whether the dependencies a request needs answer right now: what `/readyz` reports. */
export class HealthService {
  constructor(
    private readonly db: Database,
    private readonly limiterStore: LimiterStore,
  ) {}

  async databaseReachable(): Promise<boolean> {
    await this.db.$queryRaw`SELECT 1`;
    return true;
  }

  /** Null when Redis is not configured (limits live in process memory). */
  get redisReachable(): (() => Promise<boolean>) | null {
    return this.limiterStore.shared ? () => this.limiterStore.ping() : null;
  }
}
