import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { closeTree } from '../config/private-dir.ts';
import {
  cannotRunError,
  canRun,
  copyBinariesForAccount,
  openPathTo,
  type PostgresAccount,
  resolvePostgresAccount,
} from './embedded-account.ts';
import { isAlive, parentPid, readRunningPostmaster, stopPostmaster } from './embedded-postmaster.ts';
import { loadPostgresBinaries } from './postgres-binaries.ts';

export interface EmbeddedPostgres {
  /** postgres:// URL (Unix socket, with the password); never log it. */
  connectionString: string;
  /** Stops the server (fast shutdown) when this process started it; a no-op when it attached to a running one. */
  stop(): Promise<void>;
  /** Files in the cluster found open to other accounts at start, and made private. */
  closedEntries: number;
}

export interface EmbeddedPostgresOptions {
  /** DATA_DIR: the cluster lives in <dataDir>/postgres, its password in <dataDir>/postgres.password. */
  dataDir: string;
  /** The account PostgreSQL runs as when this process is root (EMBEDDED_POSTGRES_USER). */
  systemUser?: string;
  /** A scratch cluster (tests, `db:migration`): no fsync, so a crash may lose it. Never for DATA_DIR. */
  throwaway?: boolean;
  /** Start even though DATA_DIR holds a PGlite database (the migration script does). */
  ignorePglite?: boolean;
  /** Called when the server exits without being asked to (it crashed or was killed). */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export const DEFAULT_POSTGRES_USER = 'gatehouse-postgres';
const SUPERUSER = 'gatehouse';
const DATABASE = 'gatehouse';
const PORT = 5432; // only names the socket file: the server listens on no TCP port
const SOCKET_FILE = `.s.PGSQL.${PORT}`;
const MAX_LOG_BYTES = 10 * 1024 * 1024;

/** Another process (a second Gatehouse, a CLI) runs the embedded server on this DATA_DIR. */
export class EmbeddedInUseError extends Error {
  override name = 'EmbeddedInUseError';
}

/** DATA_DIR holds a PGlite database from an older Gatehouse that has not been migrated. */
export class PgliteDataError extends Error {
  override name = 'PgliteDataError';
}

export const clusterDirOf = (dataDir: string) => path.join(dataDir, 'postgres');
const passwordFileOf = (dataDir: string) => path.join(dataDir, 'postgres.password');
const ownerFileOf = (dataDir: string) => path.join(dataDir, 'postgres.owner');
export const pgliteDirOf = (dataDir: string) => path.join(dataDir, 'pglite');
/** Written by `npm run db:migrate-embedded` once every row of DATA_DIR/pglite is in the new server. */
export const pgliteMigratedMarkerOf = (dataDir: string) => path.join(dataDir, 'pglite.migrated');

export function hasCluster(dataDir: string): boolean {
  return existsSync(path.join(clusterDirOf(dataDir), 'PG_VERSION'));
}

/**
 * Starts PostgreSQL (the `@embedded-postgres` binaries) on <dataDir>/postgres, initialising it on first
 * use. It listens on no TCP port, only on a Unix socket in the cluster directory (0700) - or, when that
 * path is too long for a socket, in a private temporary directory - and asks for a random password kept
 * in <dataDir>/postgres.password (0600). Its log goes to <dataDir>/postgres.log.
 *
 * One server per DATA_DIR: PostgreSQL's own lock (postmaster.pid) is read first. A server whose owner
 * (the process that started it, recorded in <dataDir>/postgres.owner and being its parent) still runs
 * means another Gatehouse or CLI uses DATA_DIR: EmbeddedInUseError. A server whose owner died (it was
 * SIGKILLed, crashed) is an orphan: it is stopped (fast shutdown, nothing committed lost), then started
 * again here. Where util-linux `setpriv` exists the server also gets SIGINT as soon as its parent dies.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = clusterDirOf(dataDir);
  if (!options.ignorePglite) assertNoUnmigratedPglite(dataDir);
  let binaries = await loadPostgresBinaries();
  const account = await resolvePostgresAccount(options.systemUser ?? DEFAULT_POSTGRES_USER);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (account) {
    await openPathTo(dataDir, account);
    if (!canRun(binaries.postgres, account)) {
      const bin = await copyBinariesForAccount(path.dirname(binaries.postgres), binaries.version);
      binaries = { ...binaries, initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
      if (!canRun(binaries.postgres, account)) throw cannotRunError(binaries.postgres, account);
    }
  }

  const running = await readRunningPostmaster(clusterDir);
  if (running) {
    const owner = await readOwner(dataDir);
    // Its owner is its parent while it lives; where the parent cannot be read (no /proc), a live owner counts.
    const parent = await parentPid(running.pid);
    if (owner !== null && (parent === null ? isAlive(owner) : parent === owner)) throw inUse(dataDir, running.pid, owner);
    await stopPostmaster(running.pid); // an orphan of a Gatehouse that died
  }

  const password = await loadOrCreatePassword(dataDir);
  let closedEntries = 0;
  if (!hasCluster(dataDir)) await initialiseCluster(binaries.initdb, clusterDir, password, account, options.throwaway === true);
  else {
    // PostgreSQL refuses a cluster directory open to others; files a copy or a tool left open are closed too.
    await chmod(clusterDir, 0o700);
    closedEntries = await closeTree(clusterDir);
  }

  const socketDir = await chooseSocketDir(clusterDir, account);
  const log = await openLog(dataDir);
  const args = ['-D', clusterDir, '-k', socketDir, '-p', String(PORT), '-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700'];
  // A test run points many servers (each with its pool) at one cluster: room for them all.
  if (options.throwaway)
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300');
  const pdeathsig = hasSetprivPdeathsig();
  const child = spawn(
    pdeathsig ? 'setpriv' : binaries.postgres,
    pdeathsig ? ['--pdeathsig', 'INT', '--', binaries.postgres, ...args] : args,
    {
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
      cwd: '/',
      // Not Gatehouse's environment: it holds SECRET and other credentials the server has no use for.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
      // Its own process group: a Ctrl-C in the terminal reaches Gatehouse, which drains, then stops it.
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    },
  );
  child.unref();
  await log.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(code, signal);
  });
  await writeFile(ownerFileOf(dataDir), `${process.pid}\n`, { mode: 0o600 });
  await chmod(ownerFileOf(dataDir), 0o600); // the mode above only applies to a new file

  const connectionString = `postgres://${SUPERUSER}:${password}@localhost:${PORT}/${DATABASE}?host=${encodeURIComponent(socketDir)}`;
  const stop = async () => {
    if (stopping) return exited;
    stopping = true;
    child.ref(); // keeps this process alive until the server has exited
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
    await rm(ownerFileOf(dataDir), { force: true });
    if (socketDir !== clusterDir) await rm(socketDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(child, clusterDir, dataDir);
    await ensureDatabase(connectionString);
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString, stop, closedEntries };
}

/**
 * For the CLIs (db:migrate, keys:rotate, admin:create): the running embedded server of DATA_DIR when
 * there is one (stop() then leaves it running), else one started for the command and stopped after it.
 */
export async function openEmbeddedPostgres(options: EmbeddedPostgresOptions & { create?: boolean }): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  if (!options.ignorePglite) assertNoUnmigratedPglite(dataDir);
  if (!options.create && !hasCluster(dataDir)) {
    throw new Error(`No embedded database in ${clusterDirOf(dataDir)}: start the server once first, or set DATA_DIR or DATABASE_URL.`);
  }
  const running = await readRunningPostmaster(clusterDirOf(dataDir));
  if (running?.status === 'ready' && running.socketDir) {
    const password = (await readFile(passwordFileOf(dataDir), 'utf8')).trim();
    const connectionString = `postgres://${SUPERUSER}:${password}@localhost:${running.port}/${DATABASE}?host=${encodeURIComponent(running.socketDir)}`;
    return { connectionString, stop: async () => {}, closedEntries: 0 };
  }
  return startEmbeddedPostgres(options);
}

/** A PGlite directory not (completely) migrated: the operator must migrate first, or its users would find an empty database. */
export function assertNoUnmigratedPglite(dataDir: string): void {
  if (!existsSync(path.join(pgliteDirOf(dataDir), 'PG_VERSION')) || existsSync(pgliteMigratedMarkerOf(dataDir))) return;
  throw new PgliteDataError(
    `${pgliteDirOf(dataDir)} holds a database of an older Gatehouse (PGlite). The embedded database is now a real PostgreSQL server in ${clusterDirOf(dataDir)}. Migrate once with \`npm run db:migrate-embedded\` (with the same DATA_DIR and SECRET; it copies every row and keeps the old directory), then start again.`,
  );
}

function inUse(dataDir: string, postmasterPid: number, ownerPid: number): EmbeddedInUseError {
  return new EmbeddedInUseError(
    `DATA_DIR ${dataDir} is in use: its embedded PostgreSQL (pid ${postmasterPid}) was started by process ${ownerPid}, another Gatehouse or a CLI that is still running. Stop it first, or give this instance its own DATA_DIR.`,
  );
}

async function readOwner(dataDir: string): Promise<number | null> {
  const text = await readFile(ownerFileOf(dataDir), 'utf8').catch(() => null);
  const pid = Number(text?.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

async function loadOrCreatePassword(dataDir: string): Promise<string> {
  const file = passwordFileOf(dataDir);
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing?.trim()) {
    await chmod(file, 0o600);
    return existing.trim();
  }
  const password = randomBytes(32).toString('hex');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initialiseCluster(
  initdb: string,
  clusterDir: string,
  password: string,
  account: PostgresAccount | null,
  throwaway: boolean,
) {
  const leftovers = await readdir(clusterDir).catch(() => null);
  if (leftovers && leftovers.length > 0) {
    throw new Error(`${clusterDir} exists but holds no PostgreSQL cluster (an interrupted first start?): remove it and start again.`);
  }
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (account) await chown(clusterDir, account.uid, account.gid);
  // initdb reads the superuser's password from a file: one in a directory only its account can enter.
  const scratch = await mkdtemp(path.join(tmpdir(), 'gatehouse-initdb-'));
  try {
    const pwfile = path.join(scratch, 'password');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (account) await Promise.all([chown(scratch, account.uid, account.gid), chown(pwfile, account.uid, account.gid)]);
    const args = [
      '-D',
      clusterDir,
      '-U',
      SUPERUSER,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-instructions',
    ];
    if (throwaway) args.push('--no-sync');
    const result = spawnSync(initdb, args, {
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      await rm(clusterDir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(result.stderr || result.error?.message || '').trim()}`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The cluster directory itself when the socket path fits (108 bytes on Linux), else a private temporary one. */
async function chooseSocketDir(clusterDir: string, account: PostgresAccount | null): Promise<string> {
  if (Buffer.byteLength(path.join(clusterDir, SOCKET_FILE)) <= 100) return clusterDir;
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-pg-'));
  if (account) await chown(dir, account.uid, account.gid);
  return dir;
}

async function openLog(dataDir: string) {
  const file = path.join(dataDir, 'postgres.log');
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size > MAX_LOG_BYTES) await rename(file, `${file}.1`);
  const handle = await open(file, 'a', 0o600);
  await handle.chmod(0o600); // one an older copy or a tool left open
  return handle;
}

async function waitUntilReady(child: ChildProcess, clusterDir: string, dataDir: string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = (await readFile(path.join(dataDir, 'postgres.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      if (tail.includes('lock file "postmaster.pid" already exists')) {
        const running = await readRunningPostmaster(clusterDir);
        throw inUse(dataDir, running?.pid ?? 0, (await readOwner(dataDir)) ?? 0);
      }
      throw new Error(`The embedded PostgreSQL did not start (see ${path.join(dataDir, 'postgres.log')}):\n${tail}`);
    }
    // setpriv execs postgres, so the child's pid is the postmaster's either way.
    const state = await readRunningPostmaster(clusterDir);
    if (state && state.pid === child.pid && state.status === 'ready') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

let setprivPdeathsig: boolean | undefined;
function hasSetprivPdeathsig(): boolean {
  setprivPdeathsig ??= spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig') ?? false;
  return setprivPdeathsig;
}
