import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import type { Config } from './config/config.ts';
import { closeTree, ensurePrivateDir } from './config/private-dir.ts';
import { loadOrCreateSecret } from './config/secret.ts';
import { createDatabase } from './db/client.ts';
import { type EmbeddedPostgres, pgliteDirOf, startEmbeddedPostgres } from './db/embedded.ts';
import { applyMigrations } from './db/schema-engine.ts';
import { startMetricsListener } from './http/metrics-routes.ts';
import type { Logger } from './log/logger.ts';
import { createFileOutboxTransport, createSmtpTransport, type MailTransport } from './mail/mail.transport.ts';
import { DEFAULT_POLICIES, ensureDefaultPolicies } from './modules/access/access.bootstrap.ts';
import { createServices, type Services } from './services.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../prisma/migrations');

export interface RunningServer {
  url: string;
  /** The METRICS_PORT listener's URL (on 127.0.0.1), when it is configured. */
  metricsUrl: string | null;
  services: Services;
  /**
   * Graceful shutdown: readiness fails at once, the listener stops accepting, in-flight requests
   * are answered (with `Connection: close`), background work (mail) finishes, then the rest
   * closes. Unbounded by itself: the process entry (main.ts) bounds it by SHUTDOWN_TIMEOUT.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Apply pending migrations before serving (the default; tests that migrate once turn it off). */
  migrate?: boolean;
  /** A mail transport to use instead of the one the configuration names. */
  mail?: MailTransport;
}

/**
 * Start-up: database (the embedded PostgreSQL in DATA_DIR/postgres unless DATABASE_URL is set), migrations,
 * default policies and first admin, then the HTTP server. close() shuts down in reverse order.
 */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const cleanups: (() => Promise<void> | void)[] = [];
  let draining = false;
  const close = async () => {
    draining = true;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    // DATA_DIR holds the embedded database, a generated secret.key and the mail outbox: when any
    // of them is used, it is this account's alone (0700), or the server does not start.
    const outbox = !options.mail && !config.email.smtp;
    if (!config.databaseUrl || !config.secret || outbox) {
      const allowGroupSearch = !config.databaseUrl && process.getuid?.() === 0;
      if (await ensurePrivateDir(config.dataDir, 'DATA_DIR', { allowGroupSearch }))
        logger.warn({ dir: config.dataDir }, 'DATA_DIR was open to other accounts: made it private (0700)');
    }
    // Mails hold reset links; ones an older version wrote are closed too.
    if (outbox) {
      await ensurePrivateDir(config.email.outboxDir, 'The mail outbox');
      await closeTree(config.email.outboxDir);
    }
    let connectionString = config.databaseUrl;
    if (!connectionString) {
      const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
        dataDir: config.dataDir,
        systemUser: config.embeddedPostgresUser,
        onUnexpectedExit: (code, signal) =>
          logger.error({ code, signal }, 'the embedded PostgreSQL stopped unexpectedly; see DATA_DIR/postgres.log'),
      });
      cleanups.push(() => embedded.stop());
      connectionString = embedded.connectionString;
      if (embedded.closedEntries > 0)
        logger.warn({ count: embedded.closedEntries }, 'database files were open to other accounts: made them private');
      if (existsSync(pgliteDirOf(config.dataDir))) {
        logger.warn(
          { dir: pgliteDirOf(config.dataDir) },
          'the PGlite database of an older version is still here; remove it once you no longer need it',
        );
      }
    }
    if (options.migrate !== false) {
      const applied = await applyMigrations(connectionString, MIGRATIONS_DIR);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    const db = createDatabase(connectionString, config.databasePoolSize, config.databaseConnectTimeoutSeconds * 1000);
    cleanups.push(() => db.$disconnect());

    const mail =
      options.mail ??
      (config.email.smtp
        ? createSmtpTransport(config.email.from, config.email.smtp, config.email.smtpTimeoutSeconds * 1000)
        : createFileOutboxTransport(config.email.from, config.email.outboxDir, logger));
    cleanups.push(() => mail.close());

    const secret = await loadOrCreateSecret(config, logger);
    const services = await createServices({ config, secret, db, mail, logger });
    cleanups.push(() => services.close());

    await ensureDefaultPolicies(db);
    const admin = await services.users.ensureFirstAdmin(DEFAULT_POLICIES.admin);
    if (admin?.generatedPassword) {
      // Shown once, on purpose, on the console only: the operator has no other way to learn it.
      process.stdout.write(`\nFirst admin created: ${admin.email}\nPassword (shown once): ${admin.generatedPassword}\n\n`);
    } else if (admin) {
      logger.info({ email: admin.email }, 'first admin created');
    }

    const app = createApp({ config, services, logger, draining: () => draining });
    // The router answers a request without Host itself, with the security headers and a body.
    const server: Server = createServer({ requireHostHeader: false }, app.handleRequest);
    server.on('clientError', app.handleClientError);
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    // Readiness already fails (draining): keep accepting for SHUTDOWN_DRAIN_DELAY so a load
    // balancer polling /readyz takes the instance out before connections are refused. Then stop
    // accepting; idle kept-alive connections close now, busy ones after their response (which
    // says `Connection: close`, see the router): no request that arrived is dropped.
    cleanups.push(async () => {
      if (config.shutdown.drainDelaySeconds > 0) {
        logger.info({ seconds: config.shutdown.drainDelaySeconds }, 'readiness is failing; draining before closing the listener');
        await new Promise((resolve) => setTimeout(resolve, config.shutdown.drainDelaySeconds * 1000));
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    });
    let metricsUrl: string | null = null;
    if (config.metrics.port !== null) {
      const listener = await startMetricsListener(services.metrics, config.metrics.port);
      // Closed with the main listener (cleanups run in reverse): scrapes during draining still answer.
      cleanups.splice(cleanups.length - 1, 0, () => listener.close());
      metricsUrl = `http://127.0.0.1:${listener.port}/metrics`;
      logger.info({ url: metricsUrl }, 'metrics listener started');
    }
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return { url: `http://${host}:${port}`, metricsUrl, services, close };
  } catch (error) {
    await close();
    throw error;
  }
}
