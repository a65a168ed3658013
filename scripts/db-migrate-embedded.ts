// npm run db:migrate-embedded: moves the embedded database of Gatehouse versions before 0.2 (PGlite, in
// ${DATA_DIR:-./data}/pglite) into the embedded PostgreSQL server (${DATA_DIR}/postgres), once. It applies to
// the new server the migrations the PGlite database had, copies every row of every table in one transaction,
// checks the counts, then applies the newer migrations. DATA_DIR/pglite is kept (the server reminds you at
// start) until you remove it; DATA_DIR/pglite.migrated records the copy. SECRET (or DATA_DIR/secret.key) must
// stay the same: signing keys and TOTP secrets are copied as they are, encrypted under it.
// PGlite is needed by this script only, and only once: it is a development dependency, absent from a production
// install (npm ci --omit=dev), and the script says how to get it (see loadPGlite).
import 'dotenv/config';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { clusterDirOf, pgliteDirOf, pgliteMigratedMarkerOf, startEmbeddedPostgres } from '../src/db/embedded.ts';
import { applyMigrations } from '../src/db/schema-engine.ts';
import { appliedMigrationNames, copyTables, countRows, publicTables } from '../src/db/table-copy.ts';

const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.databaseUrl)
    throw new Error('DATABASE_URL is set: this command moves the PGlite database into the embedded PostgreSQL (unset DATABASE_URL).');
  const dataDir = config.dataDir;
  const pgliteDir = pgliteDirOf(dataDir);
  if (!existsSync(path.join(pgliteDir, 'PG_VERSION'))) throw new Error(`No PGlite database in ${pgliteDir}: nothing to migrate.`);
  if (existsSync(pgliteMigratedMarkerOf(dataDir))) {
    console.log(`${pgliteDir} was already migrated (see ${pgliteMigratedMarkerOf(dataDir)}). Nothing done.`);
    return;
  }
  const started = performance.now();
  // PGlite takes no lock on its directory: a server of an older version must not be running on it.
  const PGlite = await loadPGlite();
  const source = new PGlite(pgliteDir);
  try {
    await source.waitReady;
    const migrations = await appliedMigrationNames(source);
    console.log(`Copying ${pgliteDir} (PGlite, ${migrations.length} migrations) into the embedded PostgreSQL in ${clusterDirOf(dataDir)}`);
    const target = await startEmbeddedPostgres({ dataDir, systemUser: config.embeddedPostgresUser, ignorePglite: true });
    try {
      // The same schema as the source first, so every row fits as it is; newer migrations run after the copy.
      await applyMigrations(target.connectionString, await migrationsSubset(migrations));
      const client = new pg.Client({ connectionString: target.connectionString });
      await client.connect();
      try {
        for (const table of await publicTables(client)) {
          if ((await countRows(client, table)) > 0) {
            throw new Error(
              `The embedded PostgreSQL in ${clusterDirOf(dataDir)} already holds rows (table ${table}): not copying over them.`,
            );
          }
        }
        await client.query('BEGIN');
        await client.query('SET LOCAL session_replication_role = replica'); // foreign keys: rows arrive table by table
        const copied = await copyTables(source, client);
        await client.query('COMMIT');
        for (const [table, n] of Object.entries(copied)) console.log(`  ${table}: ${n} rows`);
        const applied = await applyMigrations(target.connectionString, migrationsDir);
        if (applied.length > 0) console.log(`Applied ${applied.length} newer migration(s): ${applied.join(', ')}`);
        await writeFile(
          pgliteMigratedMarkerOf(dataDir),
          `${JSON.stringify({ migratedAt: new Date().toISOString(), from: pgliteDir, rows: copied }, null, 2)}\n`,
          { mode: 0o600 },
        );
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        await client.end();
      }
    } finally {
      await target.stop();
    }
  } finally {
    await source.close();
  }
  console.log(
    `Done in ${Math.round(performance.now() - started)} ms. ${pgliteDir} is kept: remove it once Gatehouse runs well on the new database.`,
  );
}

/**
 * PGlite (27 MB) reads the old data directory. Only this one-off command needs it, so a production install
 * (`npm ci --omit=dev`) leaves it out; a full install (`npm ci`, or `npm install`) has it, at the version the
 * lockfile pins.
 */
async function loadPGlite() {
  try {
    return (await import('@electric-sql/pglite')).PGlite;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String(error).includes('@electric-sql/pglite')) throw error;
    throw new Error(
      'This command reads the old database with PGlite (@electric-sql/pglite), which a production install (npm ci --omit=dev) leaves out. ' +
        'Install the dependencies in full for this one-off step (`npm ci`), run `npm run db:migrate-embedded` again, ' +
        'then go back to the production install (`npm ci --omit=dev`). See the README, "Migrating from the PGlite versions".',
    );
  }
}

/** A migrations directory holding only the named migrations (those the PGlite database had). */
async function migrationsSubset(names: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-migrations-'));
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
  await cp(path.join(migrationsDir, 'migration_lock.toml'), path.join(dir, 'migration_lock.toml'));
  for (const name of names) {
    if (!existsSync(path.join(migrationsDir, name)))
      throw new Error(`The PGlite database has migration ${name}, which this version does not know: use a newer Gatehouse.`);
    await mkdir(path.join(dir, name));
    await cp(path.join(migrationsDir, name), path.join(dir, name), { recursive: true });
  }
  return dir;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
