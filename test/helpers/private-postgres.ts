import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyMigrations } from '../../src/db/schema-engine.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations');

export interface PrivatePostgres {
  url: string;
  /** Stops the server at once, as a crash or an outage would (no clean shutdown). */
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The newest PostgreSQL server binaries on this machine, or null. */
export async function postgresBinDir(): Promise<string | null> {
  if (!existsSync(PG_ROOT)) return null;
  const versions = (await readdir(PG_ROOT)).filter((v) => existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(PG_ROOT, versions[0], 'bin') : null;
}

/**
 * A PostgreSQL server of the test's own, migrated, that the test may stop and start again: the
 * shared one must never go down under other tests. PostgreSQL refuses to run as root, so as root
 * it runs as the `postgres` system user. Null when no server binaries are installed.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres | null> {
  const bin = await postgresBinDir();
  if (!bin) return null;
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  const data = path.join(dir, 'data');
  await as(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await as(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  };
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await applyMigrations(url, MIGRATIONS);
  return {
    url,
    start,
    stop: async () => {
      await as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    cleanup: async () => {
      await as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
