import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded.ts';

describe('embedded PostgreSQL (PGlite over its socket)', () => {
  let embedded: EmbeddedPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres();
    pool = new pg.Pool({ connectionString: embedded.connectionString, max: 10 });
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
  });
  afterAll(async () => {
    await pool.end();
    await embedded.stop();
  });

  it('answers each of many concurrent parameterised queries from pooled connections with its own rows', async () => {
    const results = await Promise.all(
      // Each statement differs, so one connection's Bind landing on another's Parse would show.
      Array.from({ length: 300 }, (_, i) =>
        pool.query(`SELECT $1::int AS n, ${i} AS k, repeat($2::text, ${(i % 3) + 1}) AS s`, [i, `q${i}`]),
      ),
    );
    for (const [i, result] of results.entries()) expect(result.rows).toEqual([{ n: i, k: i, s: `q${i}`.repeat((i % 3) + 1) }]);
  });

  it('holds other connections until an open transaction ends, so they never see its uncommitted rows', async () => {
    const tx = await pool.connect();
    let outside: Promise<pg.QueryResult>;
    try {
      await tx.query('BEGIN');
      await tx.query('INSERT INTO items VALUES (1, $1)', ['in-transaction']);
      outside = pool.query('SELECT count(*)::int AS c FROM items WHERE id = 1');
      await tx.query('INSERT INTO items VALUES (2, $1)', ['also-in-transaction']);
      await tx.query('ROLLBACK');
    } finally {
      tx.release();
    }
    expect((await outside).rows[0].c).toBe(0);
    await pool.query('INSERT INTO items VALUES (3, $1)', ['after']);
    expect((await pool.query('SELECT id FROM items ORDER BY id')).rows).toEqual([{ id: 3 }]);
  });
});

describe('embedded PostgreSQL on disk', () => {
  it('listens on a Unix socket in a directory only its owner can enter, not on a TCP port', async () => {
    const { mkdtemp, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-embedded-'));
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pglite') });
    try {
      const url = new URL(embedded.connectionString);
      const socketDir = url.searchParams.get('host')!;
      expect(socketDir.startsWith('/')).toBe(true);
      expect((await stat(socketDir)).mode & 0o077).toBe(0);
      expect((await stat(path.join(socketDir, '.s.PGSQL.5432'))).isSocket()).toBe(true);
      const client = new pg.Client({ connectionString: embedded.connectionString });
      await client.connect();
      expect((await client.query('SELECT 41 + 1 AS answer')).rows).toEqual([{ answer: 42 }]);
      await client.end();
    } finally {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
