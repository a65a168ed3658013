// npm run db:migrate: applies prisma/migrations to DATABASE_URL or, when it is unset, to the embedded PostgreSQL
// in ${DATA_DIR:-./data}/postgres, the same database the server opens (same config, same .env): through the
// running server when there is one, else on one started for the command.
import 'dotenv/config';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { clusterDirOf, openEmbeddedPostgres } from '../src/db/embedded.ts';
import { applyMigrations } from '../src/db/schema-engine.ts';

const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

/** The URL without credentials or query: logs never carry passwords. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const started = performance.now();
  let applied: string[];
  if (config.databaseUrl) {
    console.log(`Migrating ${describeUrl(config.databaseUrl)}`);
    applied = await applyMigrations(config.databaseUrl, migrationsDir);
  } else {
    console.log(`Migrating the embedded PostgreSQL in ${clusterDirOf(config.dataDir)}`);
    const embedded = await openEmbeddedPostgres({ dataDir: config.dataDir, systemUser: config.embeddedPostgresUser, create: true });
    try {
      applied = await applyMigrations(embedded.connectionString, migrationsDir);
    } finally {
      await embedded.stop();
    }
  }
  const ms = Math.round(performance.now() - started);
  if (applied.length === 0) console.log(`Already up to date (${ms} ms).`);
  else console.log(`Applied ${applied.length} migration(s) in ${ms} ms:\n${applied.map((n) => `  ${n}`).join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
