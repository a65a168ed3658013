import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedInUseError, openEmbeddedPostgres, PgliteDataError, startEmbeddedPostgres } from './embedded.ts';
import { isAlive, readRunningPostmaster } from './embedded-postmaster.ts';

// Each test gets its own DATA_DIR; a fresh cluster (initdb) is slow on a loaded machine.
const SLOW = { timeout: 120_000 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gatehouse-embedded-'));
  await chmod(root, 0o755); // as root, PostgreSQL's own account must pass through it
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function query(connectionString: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe('embedded PostgreSQL', () => {
  it('listens only on a Unix socket in a private directory and asks for the password kept in DATA_DIR (0600)', SLOW, async () => {
    const dataDir = path.join(root, 'socket');
    const embedded = await startEmbeddedPostgres({ dataDir });
    try {
      const url = new URL(embedded.connectionString);
      const socketDir = url.searchParams.get('host') as string;
      expect(socketDir.startsWith('/')).toBe(true);
      expect(await modeOf(socketDir)).toBe(0o700);
      expect((await stat(path.join(socketDir, '.s.PGSQL.5432'))).isSocket()).toBe(true);
      expect(await query(embedded.connectionString, 'SELECT 41 + 1 AS answer')).toEqual([{ answer: 42 }]);
      expect(await query(embedded.connectionString, "SELECT current_setting('listen_addresses') AS tcp")).toEqual([{ tcp: '' }]);

      const password = (await readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
      expect(password).toMatch(/^[0-9a-f]{64}$/);
      expect(await modeOf(path.join(dataDir, 'postgres.password'))).toBe(0o600);
      expect(await modeOf(path.join(dataDir, 'postgres'))).toBe(0o700);
      const wrong = new URL(embedded.connectionString);
      wrong.password = 'not-the-password';
      await expect(query(wrong.href, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
    } finally {
      await embedded.stop();
    }
    expect(await readRunningPostmaster(path.join(dataDir, 'postgres'))).toBeNull();
  });

  it('keeps rows across a restart and refuses a second server on the same DATA_DIR, saying why', SLOW, async () => {
    const dataDir = path.join(root, 'restart');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      await query(first.connectionString, 'CREATE TABLE kept (id int PRIMARY KEY)');
      await query(first.connectionString, 'INSERT INTO kept VALUES (1), (2)');
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(EmbeddedInUseError);
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/DATA_DIR .* is in use: .* Stop it first/);
      // The CLIs connect to the running server instead.
      const attached = await openEmbeddedPostgres({ dataDir });
      expect(await query(attached.connectionString, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 2 }]);
      await attached.stop(); // leaves the server running
      expect(await query(first.connectionString, 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await query(again.connectionString, 'SELECT id FROM kept ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await again.stop();
    }
  });

  it('stops a server its owner left behind (an orphan) and starts its own without losing a committed row', SLOW, async () => {
    const dataDir = path.join(root, 'orphan');
    const first = await startEmbeddedPostgres({ dataDir });
    await query(first.connectionString, 'CREATE TABLE kept (id int PRIMARY KEY)');
    await query(first.connectionString, 'INSERT INTO kept VALUES (7)');
    const orphan = await readRunningPostmaster(path.join(dataDir, 'postgres'));
    // As if the process that started it had died: the recorded owner is no longer its parent.
    await writeFile(path.join(dataDir, 'postgres.owner'), '999999999\n');
    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(orphan && isAlive(orphan.pid)).toBe(false);
      expect(await query(second.connectionString, 'SELECT id FROM kept')).toEqual([{ id: 7 }]);
    } finally {
      await second.stop();
      await first.stop(); // its process is long gone
    }
  });

  it('refuses to start on a DATA_DIR that holds an unmigrated PGlite database, naming the migration command', async () => {
    const dataDir = path.join(root, 'old');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(dataDir, 'pglite'), { recursive: true });
    await writeFile(path.join(dataDir, 'pglite', 'PG_VERSION'), '18\n');
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(PgliteDataError);
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/npm run db:migrate-embedded/);
  });
});

// PostgreSQL refuses to run as root: Gatehouse then runs it as an unprivileged system account.
describe.runIf(process.getuid?.() === 0)('embedded PostgreSQL started by root', () => {
  it('runs as the system account gatehouse-postgres, which owns the cluster and may only pass through DATA_DIR', SLOW, async () => {
    const { execFileSync } = await import('node:child_process');
    const dataDir = path.join(root, 'as-root');
    const embedded = await startEmbeddedPostgres({ dataDir });
    try {
      const uid = Number(execFileSync('id', ['-u', 'gatehouse-postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'gatehouse-postgres'], { encoding: 'utf8' }).trim());
      const state = await readRunningPostmaster(path.join(dataDir, 'postgres'));
      expect((await stat(`/proc/${state?.pid}`)).uid).toBe(uid);
      expect((await stat(path.join(dataDir, 'postgres'))).uid).toBe(uid);
      const dataInfo = await stat(dataDir);
      expect([dataInfo.uid, dataInfo.gid, dataInfo.mode & 0o777]).toEqual([0, gid, 0o710]);
      // Gatehouse's own files stay root's.
      expect((await stat(path.join(dataDir, 'postgres.password'))).uid).toBe(0);
      const shell = execFileSync('getent', ['passwd', 'gatehouse-postgres'], { encoding: 'utf8' }).trim().split(':').at(-1);
      expect(shell).toMatch(/nologin|false/);
    } finally {
      await embedded.stop();
    }
  });

  it('refuses, saying why, when that account cannot reach DATA_DIR', SLOW, async () => {
    const { mkdir } = await import('node:fs/promises');
    const closed = path.join(root, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await expect(startEmbeddedPostgres({ dataDir: path.join(closed, 'data') })).rejects.toThrow(
      /runs as "gatehouse-postgres" .* cannot reach DATA_DIR .*closed is closed to other accounts/,
    );
  });
});
