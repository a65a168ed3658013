import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The unprivileged account PostgreSQL runs as when Gatehouse runs as root; null = Gatehouse's own account. */
export interface PostgresAccount {
  name: string;
  uid: number;
  gid: number;
}

export class EmbeddedAccountError extends Error {
  override name = 'EmbeddedAccountError';
}

const ADVICE = 'run Gatehouse as a normal user, or set DATABASE_URL to a PostgreSQL server';

/**
 * PostgreSQL refuses to run as root. So when Gatehouse does, the embedded server runs as the system
 * account `name` (EMBEDDED_POSTGRES_USER), created here when missing: a system user with its own group,
 * no home directory, no password and no login shell (`useradd --system --user-group`). Nothing else is
 * created on the system. Where useradd is missing, the message says what to run instead.
 */
export async function resolvePostgresAccount(name: string): Promise<PostgresAccount | null> {
  if (process.getuid?.() !== 0) return null;
  let ids = await lookUp(name);
  if (!ids) {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', nologinShell(), name]);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'useradd is not installed' : (error as Error).message.trim();
      throw new EmbeddedAccountError(
        `Gatehouse runs as root and PostgreSQL refuses to: it runs the embedded database as the system account "${name}", which does not exist and could not be created (${reason}). Create it (e.g. adduser -S -H -D ${name}), or ${ADVICE}`,
      );
    }
    ids = await lookUp(name);
    if (!ids) throw new EmbeddedAccountError(`The system account "${name}" was created but cannot be looked up: ${ADVICE}`);
  }
  if (ids.uid === 0)
    throw new EmbeddedAccountError(
      `EMBEDDED_POSTGRES_USER "${name}" is root: PostgreSQL refuses to run as root; name an unprivileged account`,
    );
  return { name, ...ids };
}

async function lookUp(name: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

function nologinShell(): string {
  for (const shell of ['/usr/sbin/nologin', '/sbin/nologin']) if (spawnSync('test', ['-x', shell]).status === 0) return shell;
  return '/bin/false';
}

/**
 * Lets `account` reach the cluster inside `dataDir` without letting it (or anyone else) list or read
 * DATA_DIR itself: DATA_DIR gets the account's group and mode 0710 (search only). Every directory above
 * must already let it pass; if one does not (a home directory such as /root), the message says so.
 */
export async function openPathTo(dataDir: string, account: PostgresAccount): Promise<void> {
  await chown(dataDir, process.getuid?.() ?? 0, account.gid);
  await chmod(dataDir, 0o710);
  let dir = path.dirname(path.resolve(dataDir));
  for (;;) {
    const info = await stat(dir);
    const passes = info.mode & 0o001 || (info.gid === account.gid && info.mode & 0o010) || (info.uid === account.uid && info.mode & 0o100);
    if (!passes) {
      throw new EmbeddedAccountError(
        `The embedded PostgreSQL runs as "${account.name}" (Gatehouse runs as root), which cannot reach DATA_DIR ${dataDir}: ${dir} is closed to other accounts. Put DATA_DIR where that account can pass (e.g. under /var/lib), or ${ADVICE}`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** Whether `account` can run the binary (it cannot when node_modules sits under a closed directory such as /root). */
export function canRun(binary: string, account: PostgresAccount): boolean {
  return spawnSync(binary, ['--version'], { uid: account.uid, gid: account.gid, cwd: '/', env: {}, encoding: 'utf8' }).status === 0;
}

export function cannotRunError(binary: string, account: PostgresAccount): EmbeddedAccountError {
  return new EmbeddedAccountError(
    `The embedded PostgreSQL runs as "${account.name}" (Gatehouse runs as root), which cannot run ${binary}: a directory on its path is closed to other accounts. Install Gatehouse where that account can read it, or ${ADVICE}`,
  );
}

const BINARY_CACHE = '/var/cache/gatehouse';

/**
 * As root with node_modules where the PostgreSQL account cannot reach it (under /root, say): a copy of the
 * package's binaries in /var/cache/gatehouse/<package>-<version> (root's, 0755), made once. Only root can
 * write there, so nothing another account planted is ever run. Returns the copied `bin` directory.
 */
export async function copyBinariesForAccount(binDir: string, packageVersion: string): Promise<string> {
  const nativeDir = path.dirname(binDir);
  const target = path.join(BINARY_CACHE, `postgres-${packageVersion}`);
  await mkdir(BINARY_CACHE, { recursive: true, mode: 0o755 });
  const cache = await stat(BINARY_CACHE);
  if (cache.uid !== 0 || cache.mode & 0o022)
    throw new EmbeddedAccountError(`${BINARY_CACHE} must belong to root and be writable by root only`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    const scratch = await mkdtemp(path.join(BINARY_CACHE, '.copy-'));
    await chmod(scratch, 0o755);
    await cp(nativeDir, scratch, { recursive: true, verbatimSymlinks: true });
    await rename(scratch, target).catch(async (error) => {
      await rm(scratch, { recursive: true, force: true });
      if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error; // else another process copied it first
    });
  }
  return path.join(target, 'bin');
}
