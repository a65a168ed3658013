// npm run db:migrate: applies prisma/migrations to DATABASE_URL or, when it is unset, to the embedded PGlite
// database in ${DATA_DIR:-./data}/pglite, the same database the server opens (same config, same .env).
import 'dotenv/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
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
    // Never while the server runs on the same directory: PGlite takes no lock on it.
    const dataDir = path.join(config.dataDir, 'pglite');
    console.log(`Migrating embedded PGlite in ${dataDir}`);
    const embedded = await startEmbeddedPostgres({ dataDir });
    try {
      applied = await applyMigrations(embedded.connectionString, migrationsDir);
    } finally {
      await embedded.stop(); // closing PGlite is what flushes it to disk
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
