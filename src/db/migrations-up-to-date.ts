import { createHash } from 'node:crypto';
import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * True when the database has recorded exactly the migrations in `list`, each finished and with the checksum
 * of its file (the SHA-256 of migration.sql, as Prisma records it), and nothing half-applied: then the schema
 * engine would apply nothing, and booting it (a WASM instance of ~20 MB, most of a second) is skipped. Any
 * other state (a pending, failed, edited or unknown migration, no _prisma_migrations table, an unreadable
 * file, another provider in the lock file, an error) answers false and leaves the decision to the engine, so
 * what is applied or reported is exactly what the engine does.
 */
export async function migrationsUpToDate(connectionString: string, list: MigrationList): Promise<boolean> {
  if (list.lockfile.content !== null && !/^\s*provider\s*=\s*"postgresql"\s*$/m.test(list.lockfile.content)) return false;
  const expected = new Map<string, string>();
  for (const dir of list.migrationDirectories) {
    if (dir.migrationFile.content.tag !== 'ok') return false;
    expected.set(dir.path, createHash('sha256').update(dir.migrationFile.content.value).digest('hex'));
  }
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    // Rolled-back attempts are history; everything else must be one finished row per local migration.
    const { rows } = await client.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL',
    );
    const names = new Set(rows.map((row) => row.migration_name));
    if (rows.length !== expected.size || names.size !== expected.size) return false;
    return rows.every((row) => row.finished_at !== null && expected.get(row.migration_name) === row.checksum);
  } catch {
    return false; // no table yet, or anything else: the engine decides and reports
  } finally {
    await client.end().catch(() => {});
  }
}
