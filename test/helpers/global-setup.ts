import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { applyMigrations } from '../../src/db/schema-engine.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseKind: 'embedded' | 'postgresql';
  }
}

const MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations');

/**
 * One database for the whole run, migrated once: with TEST_DATABASE_URL, a new database created
 * on that server (and dropped afterwards), so runs never see each other's rows; without it, the
 * embedded PostgreSQL exactly as the server starts it, on a temporary DATA_DIR removed afterwards
 * (without fsync: nothing of a test run needs to survive a crash, and the suite runs before every commit).
 */
export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `gatehouse_test_${Date.now()}_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    await applyMigrations(url.href, MIGRATIONS);
    project.provide('databaseUrl', url.href);
    project.provide('databaseKind', 'postgresql');
    return async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-test-db-'));
  const embedded = await startEmbeddedPostgres({ dataDir, throwaway: true });
  await applyMigrations(embedded.connectionString, MIGRATIONS);
  project.provide('databaseUrl', embedded.connectionString);
  project.provide('databaseKind', 'embedded');
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
