import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** What PostgreSQL's lock file (postmaster.pid) says about a server running on a cluster directory. */
export interface PostmasterState {
  pid: number;
  socketDir: string;
  port: number;
  status: string; // "starting", "ready", "stopping"
}

/** The postmaster that holds clusterDir's lock, when one is alive; null when none runs (or the lock is stale). */
export async function readRunningPostmaster(clusterDir: string): Promise<PostmasterState | null> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  // After a reboot the number may belong to another program: PostgreSQL itself ignores such a lock.
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  if (command !== null && !command.includes('postgres')) return null;
  return { pid, port: Number(lines[3]), socketDir: lines[4] ?? '', status: (lines[7] ?? '').trim() };
}

/** The parent process of pid (Linux /proc; null where unknown). */
export async function parentPid(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isSafeInteger(ppid) ? ppid : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops a postmaster by pid: SIGINT is PostgreSQL's "fast" shutdown (open transactions roll back,
 * everything committed is already in the WAL and is checkpointed), SIGQUIT after `graceMs` is its
 * "immediate" shutdown (crash recovery replays the WAL at the next start: still nothing committed lost).
 */
export async function stopPostmaster(pid: number, graceMs = 30_000): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {}
  };
  signal('SIGINT');
  const deadline = Date.now() + graceMs;
  let escalated = false;
  while (isAlive(pid)) {
    if (!escalated && Date.now() > deadline) {
      signal('SIGQUIT');
      escalated = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
