// Memory of a Gatehouse server process plus, with the embedded database, the PostgreSQL processes it
// started (the postmaster named in DATA_DIR/postgres/postmaster.pid and its backends). PostgreSQL's
// processes share their buffers, so they count by PSS (each shared page split among its users) rather
// than RSS, which would count shared_buffers once per backend. Linux /proc only.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function statusKiB(pid: number, field: string): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return Number(line?.split(/\s+/)[1] ?? 0);
  } catch {
    return 0;
  }
}

function pssKiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Pss:'));
    return Number(line?.split(/\s+/)[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The embedded postmaster of dataDir and its children; [] when none runs (DATABASE_URL). */
export function embeddedDatabasePids(dataDir: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** MiB now: the server's RSS plus its database processes' PSS. */
export function serverWithDatabaseMiB(serverPid: number, dataDir: string): number {
  const database = embeddedDatabasePids(dataDir).reduce((sum, pid) => sum + pssKiB(pid), 0);
  return Math.round((statusKiB(serverPid, 'VmRSS') + database) / 1024);
}

/** Samples serverWithDatabaseMiB until stopped; returns the peak. */
export function samplePeakMemory(serverPid: number, dataDir: string, everyMs = 200): { stop(): number } {
  let peak = serverWithDatabaseMiB(serverPid, dataDir);
  const timer = setInterval(() => {
    peak = Math.max(peak, serverWithDatabaseMiB(serverPid, dataDir));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, serverWithDatabaseMiB(serverPid, dataDir));
    },
  };
}
