import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startServer } from '../../src/server.ts';
import type { Services } from '../../src/services.ts';
import { GraphQLTestClient } from './graphql-client.ts';
import { RELAXED_RATE_LIMITS } from './rate-limits.ts';
import { type SmtpCatcher, startSmtpCatcher } from './smtp-catcher.ts';

export interface TestApp {
  url: string;
  /** The METRICS_PORT listener's /metrics URL, when the test set METRICS_PORT. */
  metricsUrl: string | null;
  config: Config;
  /** The server's own services, for operations that have no API yet (e.g. revokeUserSessions). */
  services: Services;
  client: GraphQLTestClient;
  /** Direct database access, to assert on the rows the service wrote. */
  db: Database;
  smtp: SmtpCatcher;
  close(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery staple';
export const ADMIN_EMAIL = 'admin@gatehouse.test';

/**
 * A real Gatehouse HTTP server on a free port, on the run's database (or the DATABASE_URL given),
 * sending mail to a real in-process SMTP server. Only configuration differs from production:
 * cheap argon2 parameters, and per-operation rate limits out of reach unless a test sets them.
 */
export interface TestAppOptions {
  /** Where the server's real logger writes (default: stdout, silent unless TEST_LOG_LEVEL is set). */
  logDestination?: DestinationStream;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = env.DATABASE_URL ?? inject('databaseUrl');
  const smtp = await startSmtpCatcher();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '4',
    SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    EMAIL_SMTP_URL: smtp.url,
    ADMIN_EMAIL: ADMIN_EMAIL,
    ADMIN_PASSWORD: TEST_PASSWORD,
    // Test files share one database: each app sends only its own mails (to its own SMTP catcher),
    // unless a test gives several apps one scope.
    EMAIL_OUTBOX_SCOPE: `test-${randomUUID()}`,
    ...RELAXED_RATE_LIMITS,
    ...env,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, createLogger(config.logLevel, options.logDestination), { migrate: false });
  } catch (error) {
    // Tests may expect a start to fail; leave nothing running behind.
    await smtp.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const db = createDatabase(databaseUrl, 2);
  return {
    url: server.url,
    metricsUrl: server.metricsUrl,
    config,
    services: server.services,
    client: new GraphQLTestClient(`${server.url}/graphql`),
    db,
    smtp,
    async close() {
      await server.close();
      await db.$disconnect();
      await smtp.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A unique address per call, so tests sharing one database never collide. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${process.pid}-${counter}@example.test`;
}
