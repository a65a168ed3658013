import type { Logger } from '../log/logger.ts';

/**
 * Broadcast between Gatehouse instances (revocations, key rotations). Delivery is best effort:
 * every consumer also polls the database, so a lost message only delays, never loses, an update.
 */
export interface PubSub {
  publish(topic: string, message: string): Promise<void>;
  subscribe(topic: string, handler: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

const CONNECT_WAIT_MS = 2000;

/**
 * Redis pub/sub on channels `<prefix>:<topic>`. Start-up waits briefly for the connection and
 * then goes on without it (the client keeps reconnecting, and resubscribes when it is back):
 * a Redis outage slows revocation down to the polling interval instead of stopping the service.
 */
export async function createRedisPubSub(url: string, prefix: string, logger: Logger): Promise<PubSub> {
  // Loaded only with REDIS_URL: its command tables cost ~5 MiB of heap and start-up time otherwise.
  const { createClient } = await import('./redis-client.ts');
  const options = {
    url,
    socket: { connectTimeout: CONNECT_WAIT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  };
  const publisher = createClient(options);
  const subscriber = publisher.duplicate();
  let lastError = '';
  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (error: Error) => {
      // Reconnect attempts repeat the same error; log each distinct one once.
      if (error.message === lastError) return;
      lastError = error.message;
      logger.warn({ client: name, err: error.message }, 'redis connection problem; revocations fall back to polling');
    });
    client.on('ready', () => {
      lastError = '';
    });
  }
  const connected = Promise.all([publisher.connect(), subscriber.connect()]);
  connected.catch(() => {}); // rejected only when closed before connecting
  const ready = await Promise.race([
    connected.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), CONNECT_WAIT_MS).unref()),
  ]);
  if (!ready) logger.warn('redis is not reachable yet; going on with database polling until it is');
  const channel = (topic: string) => `${prefix}:${topic}`;
  return {
    async publish(topic, message) {
      if (!publisher.isReady) return; // polling covers it; queueing would deliver stale news late
      await publisher.publish(channel(topic), message);
    },
    async subscribe(topic, handler) {
      // Queued until connected; node-redis resubscribes after a reconnect.
      const subscribed = subscriber.subscribe(channel(topic), (message) => handler(message));
      if (subscriber.isReady) await subscribed;
      else subscribed.catch(() => {});
    },
    async close() {
      for (const client of [subscriber, publisher]) {
        if (client.isReady) await client.close().catch(() => client.destroy());
        else client.destroy();
      }
    },
  };
}
