import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log/logger.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { GraphQLTestClient } from './helpers/graphql-client.ts';
import { RELAXED_RATE_LIMITS } from './helpers/rate-limits.ts';
import { TEST_PASSWORD } from './helpers/test-app.ts';

// The embedded quick start keeps everything in DATA_DIR: the database (email + argon2 pairs in
// its WAL, postgresql.auto.conf that PostgreSQL obeys), its password, secret.key and the mail outbox (reset links).
// Another local account must be able to read or change none of it: the directory is its owner's
// alone (0700) on a fresh start and after a start on a directory an older version left open, and
// Gatehouse refuses to start on one it cannot make private.

const ADMIN = 'admin@data-dir.test';
const GROUP_OR_OTHER = 0o077;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gatehouse-datadir-'));
  await chmod(root, 0o755); // as root, PostgreSQL's own account must pass through it to DATA_DIR
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** The embedded configuration: no DATABASE_URL, no SECRET, no SMTP. */
function start(dataDir: string): Promise<RunningServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ADMIN_EMAIL: ADMIN,
    ADMIN_PASSWORD: TEST_PASSWORD,
    ...RELAXED_RATE_LIMITS,
  });
  return startServer(config, createLogger(config.logLevel));
}

async function login(server: RunningServer) {
  const client = new GraphQLTestClient(`${server.url}/graphql`);
  return client.raw<{ login: { accessToken: string } }>({
    query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    variables: { e: ADMIN, p: TEST_PASSWORD },
  });
}

/** Writes a reset mail to the outbox and waits for its file. */
async function mailToOutbox(server: RunningServer, dataDir: string): Promise<string> {
  const client = new GraphQLTestClient(`${server.url}/graphql`);
  await client.raw({ query: 'mutation($e: String!) { requestPasswordReset(email: $e) }', variables: { e: ADMIN } });
  const outbox = path.join(dataDir, 'outbox');
  for (let i = 0; i < 200; i++) {
    const files = await readdir(outbox).catch(() => [] as string[]);
    const eml = files.find((f) => f.endsWith('.eml'));
    if (eml) return path.join(outbox, eml);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no mail reached the outbox');
}

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

// As root the embedded PostgreSQL runs as its own account, which may pass through DATA_DIR (0710, its group).
const AS_ROOT = process.getuid?.() === 0;
const DATA_DIR_MODE = AS_ROOT ? 0o710 : 0o700;

/** Every directory and file under `dir` (not following links) whose mode lets group or others in. */
async function openEntries(dir: string): Promise<string[]> {
  const open: string[] = [];
  if (((await lstat(dir)).mode & 0o777) !== DATA_DIR_MODE) open.push('.');
  for (const entry of await readdir(dir, { recursive: true })) {
    const info = await lstat(path.join(dir, entry));
    if (!info.isSymbolicLink() && !info.isSocket() && info.mode & GROUP_OR_OTHER) open.push(`${entry} ${(info.mode & 0o777).toString(8)}`);
  }
  return open;
}

// A fresh embedded database runs initdb and every migration: far slower than the suite's other starts.
describe('DATA_DIR of the embedded database', { timeout: 180_000 }, () => {
  const dataDir = () => path.join(root, 'data');

  it('is created private on a fresh start: directories 0700, database files, secret.key and mail 0600', async () => {
    const server = await start(dataDir());
    try {
      expect((await login(server)).errors).toBeUndefined();
      const mail = await mailToOutbox(server, dataDir());
      expect(await modeOf(dataDir())).toBe(DATA_DIR_MODE);
      expect(await modeOf(path.join(dataDir(), 'postgres'))).toBe(0o700);
      expect(await modeOf(path.join(dataDir(), 'outbox'))).toBe(0o700);
      expect(await modeOf(path.join(dataDir(), 'secret.key'))).toBe(0o600);
      expect(await modeOf(path.join(dataDir(), 'postgres.password'))).toBe(0o600);
      expect(await modeOf(path.join(dataDir(), 'postgres.log'))).toBe(0o600);
      expect(await modeOf(mail)).toBe(0o600);
      const wal = (await readdir(path.join(dataDir(), 'postgres', 'pg_wal'))).find((f) => /^[0-9A-F]{24}$/.test(f));
      expect(wal).toBeDefined();
      expect(await modeOf(path.join(dataDir(), 'postgres', 'pg_wal', wal!))).toBe(0o600);
      expect(await modeOf(path.join(dataDir(), 'postgres', 'postgresql.auto.conf'))).toBe(0o600);
      expect(await openEntries(dataDir())).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('is made private again when found open (as older versions left it), and still serves its data', async () => {
    // What an older version left behind: directories 0755, database files 0666.
    await chmod(dataDir(), 0o755);
    for (const entry of await readdir(dataDir(), { recursive: true })) {
      const file = path.join(dataDir(), entry);
      const info = await lstat(file);
      if (info.isDirectory()) await chmod(file, 0o755);
      else if (info.isFile()) await chmod(file, 0o666);
    }
    const server = await start(dataDir());
    try {
      expect((await login(server)).errors).toBeUndefined();
      expect(await modeOf(dataDir())).toBe(DATA_DIR_MODE);
      expect(await modeOf(path.join(dataDir(), 'postgres'))).toBe(0o700);
      expect(await modeOf(path.join(dataDir(), 'outbox'))).toBe(0o700);
      expect(await modeOf(path.join(dataDir(), 'secret.key'))).toBe(0o600);
      expect(await modeOf(path.join(dataDir(), 'postgres.password'))).toBe(0o600);
      expect(await modeOf(path.join(dataDir(), 'postgres', 'postgresql.auto.conf'))).toBe(0o600);
      expect(await openEntries(dataDir())).toEqual([]);
    } finally {
      await server.close();
    }
  });

  // Only root can hand a directory to another account; elsewhere this cannot be set up.
  it.skipIf(process.getuid?.() !== 0)('refuses to start, saying why, on a directory another account owns', async () => {
    const foreign = path.join(root, 'foreign');
    await mkdir(foreign, { mode: 0o700 });
    await chown(foreign, 65534, 65534);
    await expect(start(foreign)).rejects.toThrow(/DATA_DIR .*foreign.* is owned by uid 65534/);
    expect(await readdir(foreign)).toEqual([]);
  });
});
