import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { applyMigrations } from '../../src/db/schema-engine.ts';

const MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations');

export interface IsolatedDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A migrated database of the run's kind that no other test file sees: for tests that change
 * process-wide state, such as rotating the signing keys, which would otherwise retire the key
 * that parallel test files sign with.
 */
export async function createIsolatedDatabase(): Promise<IsolatedDatabase> {
  // A new database on the run's server, embedded or not.
  const base = new URL(inject('databaseUrl'));
  const name = `${base.pathname.slice(1)}_iso_${randomBytes(4).toString('hex')}`;
  await runOn(base.href, `CREATE DATABASE ${name}`);
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  await applyMigrations(url.href, MIGRATIONS);
  return { url: url.href, drop: () => runOn(base.href, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function runOn(connectionString: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
