import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const GROUP_OR_OTHER = 0o077;

export class PrivateDirError extends Error {
  override name = 'PrivateDirError';
}

/**
 * Makes `dir` (created if missing, with its parents) its owner's alone: mode 0700, owned by the
 * account this process runs as. A directory found open to group or others (as older versions
 * left DATA_DIR) is closed; one owned by another account, or that cannot be closed, is refused
 * with a message saying what to do, like PostgreSQL refuses such a data directory. `allowGroupSearch`
 * accepts mode 0710 (the group may pass, not list), which DATA_DIR has when the embedded PostgreSQL runs
 * as its own account because Gatehouse runs as root. Returns whether
 * the mode had to be changed. `label` names the setting in messages (e.g. "DATA_DIR").
 */
export async function ensurePrivateDir(dir: string, label: string, options: { allowGroupSearch?: boolean } = {}): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Windows has neither owners by uid nor these mode bits; its ACLs are the operator's to set.
  const uid = process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return false;
  const info = await stat(dir);
  if (!info.isDirectory()) throw new PrivateDirError(`${label} ${dir} is not a directory`);
  if (info.uid !== uid) {
    throw new PrivateDirError(
      `${label} ${dir} is owned by uid ${info.uid}, not by uid ${uid} that Gatehouse runs as: the database, secret.key and mail in it must be readable by this account only (chown -R it, or run as its owner)`,
    );
  }
  if ((info.mode & GROUP_OR_OTHER) === 0) return false;
  // As root the embedded PostgreSQL's account passes through DATA_DIR to its cluster (group, search only).
  if (options.allowGroupSearch && (info.mode & GROUP_OR_OTHER) === 0o010) return false;
  await chmod(dir, 0o700);
  if (((await stat(dir)).mode & GROUP_OR_OTHER) !== 0) {
    throw new PrivateDirError(`${label} ${dir} is open to other accounts and could not be made private (chmod 700 it)`);
  }
  return true;
}

/** Removes group and other permissions from one file (not following a link); true when it had any. */
export async function closeFile(file: string): Promise<boolean> {
  if (process.getuid?.() === undefined || process.platform === 'win32') return false;
  const info = await lstat(file);
  if (info.isSymbolicLink() || (info.mode & GROUP_OR_OTHER) === 0) return false;
  await chmod(file, info.mode & 0o7700);
  return true;
}

/**
 * Removes group and other permissions from everything under `dir` (links are not followed), so
 * that files an older version or a tool left open are private even if the directory is later
 * opened by mistake. Returns how many entries were changed.
 */
export async function closeTree(dir: string): Promise<number> {
  if (process.getuid?.() === undefined || process.platform === 'win32') return 0;
  let changed = 0;
  for (const entry of await readdir(dir, { recursive: true })) {
    const file = path.join(dir, entry);
    const info = await lstat(file).catch(() => null); // gone since the listing (a database's temporary files)
    if (!info || info.isSymbolicLink() || (info.mode & GROUP_OR_OTHER) === 0) continue;
    try {
      await chmod(file, info.mode & 0o7700);
      changed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new PrivateDirError(`${file} is open to other accounts and could not be made private: ${(error as Error).message}`);
    }
  }
  return changed;
}
