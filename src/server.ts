import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import type { Config } from './config/config.ts';
import { loadOrCreateSecret } from './config/secret.ts';
import { createDatabase } from './db/client.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './db/embedded.ts';
import { applyMigrations } from './db/schema-engine.ts';
import type { Logger } from './log/logger.ts';
import { createFileOutboxTransport, createSmtpTransport, type MailTransport } from './mail/mail.transport.ts';
import { DEFAULT_POLICIES, ensureDefaultPolicies } from './modules/access/access.bootstrap.ts';
import { createServices, type Services } from './services.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../prisma/migrations');

export interface RunningServer {
  url: string;
  services: Services;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Apply pending migrations before serving (the default; tests that migrate once turn it off). */
  migrate?: boolean;
  /** A mail transport to use instead of the one the configuration names. */
  mail?: MailTransport;
}

/**
 * Start-up: database (embedded PGlite in DATA_DIR unless DATABASE_URL is set), migrations,
 * default policies and first admin, then the HTTP server. close() shuts down in reverse order.
 */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    let connectionString = config.databaseUrl;
    if (!connectionString) {
      const embedded: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pglite') });
      cleanups.push(() => embedded.stop());
      connectionString = embedded.connectionString;
    }
    if (options.migrate !== false) {
      const applied = await applyMigrations(connectionString, MIGRATIONS_DIR);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    const db = createDatabase(connectionString, config.databasePoolSize);
    cleanups.push(() => db.$disconnect());

    const mail =
      options.mail ??
      (config.email.smtp
        ? createSmtpTransport(config.email.from, config.email.smtp)
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

    const app = createApp({ config, services, logger });
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
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    );
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return { url: `http://${host}:${port}`, services, close };
  } catch (error) {
    await close();
    throw error;
  }
}
