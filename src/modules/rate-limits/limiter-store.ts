import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../../log/logger.ts';

/** Creates the counters behind every limit: in process memory, or shared through Redis. */
export interface LimiterStore {
  readonly shared: boolean;
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  /** True when the store answers now (always, in memory): for the readiness probe. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createMemoryLimiterStore(): LimiterStore {
  return {
    shared: false,
    limiter: (name, points, duration) => new RateLimiterMemory({ keyPrefix: name, points, duration }),
    ping: async () => true,
    close: async () => {},
  };
}

const CONNECT_WAIT_MS = 2000;

/**
 * Counters in Redis under `<prefix>:rl:<name>:`, so every instance sees the same counts. While
 * Redis is unreachable each limiter falls back to an in-memory twin (its "insurance"): limits then
 * hold per instance instead of failing open or failing every login. Commands are not queued
 * while disconnected (a queued consume would stall the request until Redis returns).
 */
export async function createRedisLimiterStore(url: string, prefix: string, logger: Logger): Promise<LimiterStore> {
  // Loaded only with REDIS_URL (see createRedisPubSub).
  const { createClient } = await import('../../pubsub/redis-client.ts');
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_WAIT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  });
  let lastError = '';
  client.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error.message }, 'redis connection problem; rate limits hold per instance until it is back');
  });
  client.on('ready', () => {
    lastError = '';
  });
  const connected = client.connect();
  connected.catch(() => {}); // rejected only when closed before connecting; the client retries meanwhile
  const ready = await Promise.race([
    connected.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), CONNECT_WAIT_MS).unref()),
  ]);
  if (!ready) logger.warn('redis is not reachable yet; rate limits hold per instance until it is');
  return {
    shared: true,
    limiter: (name, points, duration) =>
      new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        keyPrefix: `${prefix}:rl:${name}`,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
      }),
    async ping() {
      // Not queued while disconnected (disableOfflineQueue): a down Redis fails this at once.
      return (
        client.isReady &&
        (await client.ping().then(
          (reply) => reply === 'PONG',
          () => false,
        ))
      );
    },
    async close() {
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
