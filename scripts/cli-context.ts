// Shared by the operator scripts (users:list, users:suspend, sessions:revoke, audit:tail): the same
// configuration, .env, database and SECRET the server uses. With the embedded database, they use the
// running server's PostgreSQL (its Unix socket), or start it for the command when no server runs.
import 'dotenv/config';
import { type Config, loadConfig } from '../src/config/config.ts';
import { loadOrCreateSecret } from '../src/config/secret.ts';
import { deriveKey } from '../src/crypto/keys.ts';
import { createDatabase, type Database } from '../src/db/client.ts';
import type { EmbeddedPostgres } from '../src/db/embedded.ts';
import { createLogger } from '../src/log/logger.ts';
import { AuditLog } from '../src/modules/audit/audit-log.ts';

export class UsageError extends Error {}

export interface CliContext {
  config: Config;
  db: Database;
  /** Records what the script did in the audit log (written when the context closes). */
  auditLog: AuditLog;
  close(): Promise<void>;
}

export async function openCliContext(): Promise<CliContext> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  let embedded: EmbeddedPostgres | null = null;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    // The running server's database when there is one (left running), else one started for the command;
    // never a new, empty one (a wrong DATA_DIR or working directory, say).
    const { openEmbeddedPostgres } = await import('../src/db/embedded.ts');
    embedded = await openEmbeddedPostgres({ dataDir: config.dataDir, systemUser: config.embeddedPostgresUser });
    connectionString = embedded.connectionString;
  }
  const db = createDatabase(connectionString, 1);
  try {
    const secret = await loadOrCreateSecret(config, logger);
    const auditLog = new AuditLog(db, deriveKey(secret, 'audit-email-hmac-sha256'), logger);
    return {
      config,
      db,
      auditLog,
      async close() {
        await auditLog.close();
        await db.$disconnect();
        await embedded?.stop(); // a no-op when the server's own database was used
      },
    };
  } catch (error) {
    await db.$disconnect();
    await embedded?.stop();
    throw error;
  }
}

/** `--name value` / `--name=value` options and `--flag` switches; anything else is a usage error. */
export function parseOptions(args: string[], valued: readonly string[], flags: readonly string[] = []): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] = arg.startsWith('--') ? (arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]) : [arg, undefined];
    if (flags.includes(name) && inline === undefined) out[name] = true;
    else if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value.`);
      out[name] = value;
    } else throw new UsageError(`Unknown argument: ${arg}`);
  }
  return out;
}

/** Runs a script's main, printing errors (and the usage for usage errors) without a stack. */
export function runCli(usage: string, main: (args: string[]) => Promise<void>): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return;
  }
  main(args).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    if (error instanceof UsageError) console.error(usage);
    process.exitCode = 1;
  });
}
