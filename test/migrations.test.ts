import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, diffSchemas, migrationsDriftSql, schemaDriftSql } from '../src/db/schema-engine.ts';

const MIGRATIONS = path.resolve(import.meta.dirname, '../prisma/migrations');
const SCHEMA = path.resolve(import.meta.dirname, '../prisma/schema.prisma');
const EXPECTED_TABLES = [
  'User',
  'Role',
  'Policy',
  'Permission',
  'UserPolicy',
  'RolePolicy',
  'Session',
  'SessionToken',
  'PasswordResetToken',
  'SigningKey',
];

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function publicTables(connectionString: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    connectionString,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

/** The committed schema with one more column, as if someone edited schema.prisma and forgot the migration. */
function schemaWithExtraColumn(schemaText: string): string {
  const edited = schemaText.replace(/(model User \{\n)/, '$1  nickname String?\n');
  expect(edited).not.toBe(schemaText);
  return edited;
}

/**
 * A migration that fails is recorded unfinished: every later apply must refuse (not call the database up to
 * date) until an operator marks it rolled back (what `prisma migrate resolve --rolled-back` writes); then the
 * fixed migration applies, and after that nothing is pending.
 */
async function failedMigrationBlocksUntilRolledBack(connectionString: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-migrations-'));
  const name = '99999999999998_fails_first';
  try {
    await cp(MIGRATIONS, dir, { recursive: true });
    await mkdir(path.join(dir, name));
    const file = path.join(dir, name, 'migration.sql');
    await writeFile(file, 'CREATE TABLE "gatehouse_fails_first" ("id" INTEGER);\nSELECT 1 / 0;\n');
    await expect(applyMigrations(connectionString, dir)).rejects.toThrow();
    await expect(applyMigrations(connectionString, dir)).rejects.toThrow(/fail/i);
    await writeFile(file, 'CREATE TABLE IF NOT EXISTS "gatehouse_fails_first" ("id" INTEGER);\n');
    await expect(applyMigrations(connectionString, dir)).rejects.toThrow(/fail/i); // an edited file is no way out
    await query(connectionString, `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${name}'`);
    expect(await applyMigrations(connectionString, dir)).toEqual([name]);
    expect(await applyMigrations(connectionString, dir)).toEqual([]);
    // The committed migrations alone are now behind the database: the engine, not a shortcut, decides.
    expect(await applyMigrations(connectionString, MIGRATIONS)).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let schemaText: string;
beforeAll(async () => {
  schemaText = await readFile(SCHEMA, 'utf8');
});

describe("migrations on a fresh database of the run's server (embedded or TEST_DATABASE_URL)", () => {
  const db = { connectionString: '' };
  const base = new URL(inject('databaseUrl'));
  const name = `${base.pathname.slice(1)}_mig_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    await query(base.href, `CREATE DATABASE ${name}`);
    const url = new URL(base.href);
    url.pathname = `/${name}`;
    db.connectionString = url.href;
  });
  afterAll(() => query(base.href, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  // The tests below run in order on the same database.
  it('applies the committed migrations and creates the tables', async () => {
    const applied = await applyMigrations(db.connectionString, MIGRATIONS);
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.at(-1)).toMatch(/^\d{14}_[a-z0-9_]+$/);
    expect(await publicTables(db.connectionString)).toEqual(expect.arrayContaining([...EXPECTED_TABLES, '_prisma_migrations']));
    const recorded = await query<{ migration_name: string }>(
      db.connectionString,
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name',
    );
    expect(recorded.map((r) => r.migration_name)).toEqual(applied);
  });

  it('applies nothing the second time', async () => {
    expect(await applyMigrations(db.connectionString, MIGRATIONS)).toEqual([]);
  });

  it('finds no drift between the migrated database and prisma/schema.prisma', async () => {
    // Fails when schema.prisma changed without `npm run db:migration -- <name>`.
    expect(await schemaDriftSql(db.connectionString, schemaText)).toBe('');
  });

  it('reports drift when schema.prisma gains a column without a migration', async () => {
    const sql = await schemaDriftSql(db.connectionString, schemaWithExtraColumn(schemaText));
    expect(sql).toMatch(/ALTER TABLE "User" ADD COLUMN\s+"nickname" TEXT/);
  });

  it('applies a migration with semicolons inside a function body and a string', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-migrations-'));
    try {
      await cp(MIGRATIONS, dir, { recursive: true });
      await mkdir(path.join(dir, '99999999999999_semicolons'));
      await writeFile(
        path.join(dir, '99999999999999_semicolons', 'migration.sql'),
        `CREATE FUNCTION gatehouse_test_fn() RETURNS text AS $$
BEGIN
  RETURN 'one; two';
END;
$$ LANGUAGE plpgsql;
INSERT INTO "Role" ("id", "name") VALUES ('00000000-0000-4000-8000-000000000001', 'semi;colon');
`,
      );
      expect(await applyMigrations(db.connectionString, dir)).toEqual(['99999999999999_semicolons']);
      const rows = await query<{ value: string }>(db.connectionString, 'SELECT gatehouse_test_fn() AS value');
      expect(rows[0]?.value).toBe('one; two');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a failed migration blocks every later apply until it is marked rolled back', async () => {
    await failedMigrationBlocksUntilRolledBack(db.connectionString);
  });
});

describe('schema diffs', () => {
  it('diffSchemas needs no database: full SQL from empty, nothing between equal schemas', async () => {
    const sql = await diffSchemas(null, schemaText);
    for (const table of EXPECTED_TABLES) expect(sql).toContain(`CREATE TABLE "${table}"`);
    expect(await diffSchemas(schemaText, schemaText)).toBe('');
    expect(await diffSchemas(schemaText, schemaWithExtraColumn(schemaText))).toMatch(/ADD COLUMN\s+"nickname"/);
  });

  it('migrationsDriftSql (what db:migration writes) is empty for the committed migrations', async () => {
    expect(await migrationsDriftSql(MIGRATIONS, schemaText)).toBe('');
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;

describe.runIf(serverUrl)('migrations on PostgreSQL (TEST_DATABASE_URL)', () => {
  // A scratch database, so other users of the server are not disturbed; dropped afterwards.
  const name = `mig_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl ?? 'postgres://unused');
  url.pathname = `/${name}`;
  const connectionString = url.href;

  beforeAll(async () => {
    await query(serverUrl as string, `CREATE DATABASE ${name}`);
  });
  afterAll(async () => {
    await query(serverUrl as string, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('applies the migrations once, creates the tables and leaves no drift', async () => {
    const applied = await applyMigrations(connectionString, MIGRATIONS);
    expect(applied.length).toBeGreaterThan(0);
    expect(await publicTables(connectionString)).toEqual(expect.arrayContaining([...EXPECTED_TABLES, '_prisma_migrations']));
    expect(await applyMigrations(connectionString, MIGRATIONS)).toEqual([]);
    expect(await schemaDriftSql(connectionString, schemaText)).toBe('');
  });

  it('a failed migration blocks every later apply until it is marked rolled back', async () => {
    await failedMigrationBlocksUntilRolledBack(connectionString);
  });
});
