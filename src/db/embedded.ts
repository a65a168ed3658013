import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { closeTree, ensurePrivateDir } from '../config/private-dir.ts';
import { CycleAwareQueryQueue } from './pglite-queue.ts';

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server; use it like any PostgreSQL URL (PrismaPg, pg, the schema engine). */
  connectionString: string;
  /** Stops the socket server, then closes PGlite (flushing it to dataDir). End your pools first. */
  stop(): Promise<void>;
  /** Files and directories in dataDir found open to other accounts at start, and made private. */
  closedEntries: number;
}

export interface EmbeddedPostgresOptions {
  /** Directory PGlite keeps its files in; undefined = in memory (gone after stop). */
  dataDir?: string;
  /**
   * Sockets the server accepts at once. The default of PGLiteSocketServer (1) closes every pool connection
   * after the first, so this is set well above any pool size: tests run several app instances on one server.
   */
  maxConnections?: number;
}

// initdb makes a new PGlite take 3-5 s on these 2-core machines; loading a tarball of a freshly initialised
// cluster takes about 1 s. So the first in-memory instance of a process is dumped before anything touches it,
// and later ones (tests start many) load that dump. Kept on globalThis so re-evaluated modules share it.
const globals = globalThis as Record<symbol, unknown>;
const TEMPLATES = Symbol.for('gatehouse.pgliteTemplate');
globals[TEMPLATES] ??= {};
const templates = globals[TEMPLATES] as { emptyCluster?: Promise<Blob> };

async function createInMemoryPGlite(): Promise<PGlite> {
  if (templates.emptyCluster) {
    const loadDataDir = await templates.emptyCluster.catch(() => undefined);
    if (loadDataDir) return new PGlite({ loadDataDir });
  }
  const db = new PGlite();
  await db.waitReady;
  templates.emptyCluster ??= db.dumpDataDir('none');
  await templates.emptyCluster.catch(() => {}); // a failed dump only costs later instances their head start
  return db;
}

/**
 * Starts PGlite behind a PostgreSQL wire-protocol socket. PGlite has no authentication: any
 * client that reaches the socket is its superuser. So a database kept on disk (the embedded
 * server) is served on a Unix socket in a directory only this user can enter; a loopback TCP port
 * (port 0, picked by the OS) is only used for in-memory databases, which tests use.
 * PGlite runs one query at a time; the queue below serialises whole query cycles and keeps an open
 * transaction on its own socket. Never open the same dataDir from two processes: PGlite takes no
 * lock on it.
 *
 * The files hold password hashes (the WAL) and settings PGlite obeys (postgresql.auto.conf), so
 * dataDir is made its owner's alone (0700) before PGlite opens it. That directory is what keeps
 * them private: PGlite (Emscripten's NODEFS) sets file modes itself with chmod, 0666 for the files
 * of a new cluster, so a umask would not help (and it is process-wide). What PGlite leaves open is
 * closed once it is ready, on every start.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir !== undefined) await ensurePrivateDir(options.dataDir, 'The embedded database directory');
  const socketDir = options.dataDir === undefined ? null : await privateSocketDir(options.dataDir);
  const db = options.dataDir === undefined ? await createInMemoryPGlite() : new PGlite(options.dataDir);
  await db.waitReady;
  let closedEntries = 0;
  try {
    if (options.dataDir !== undefined) closedEntries = await closeTree(options.dataDir);
  } catch (error) {
    await db.close();
    throw error;
  }
  const maxConnections = options.maxConnections ?? 100;
  const server = socketDir
    ? new PGLiteSocketServer({ db, path: path.join(socketDir, SOCKET_FILE), maxConnections })
    : new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  // Its queue interleaves pooled connections mid-query (see pglite-queue.ts). The server hands
  // this field to every connection handler it creates, so replacing it before start() is enough;
  // the package version is pinned exactly because this relies on that private field.
  (server as unknown as { queryQueue: CycleAwareQueryQueue }).queryQueue = new CycleAwareQueryQueue(db);
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  // node-postgres takes a socket directory as `host` and connects to <dir>/.s.PGSQL.<port>.
  const connectionString = socketDir
    ? `postgres://postgres@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(socketDir)}`
    : `postgres://postgres@127.0.0.1:${Number(server.getServerConn().split(':').pop())}/postgres`;
  return {
    connectionString,
    closedEntries,
    async stop() {
      await server.stop();
      await db.close();
      if (socketDir) await rm(path.join(socketDir, SOCKET_FILE), { force: true });
    },
  };
}

const SOCKET_PORT = 5432;
const SOCKET_FILE = `.s.PGSQL.${SOCKET_PORT}`;

/** <dataDir>/run (mode 0700), or a private temporary directory when that path is too long for a socket. */
async function privateSocketDir(dataDir: string): Promise<string> {
  let dir = path.resolve(dataDir, 'run');
  if (path.join(dir, SOCKET_FILE).length > 100) dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-pg-'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  // A socket file left by a crash would make listen() fail.
  await rm(path.join(dir, SOCKET_FILE), { force: true });
  return dir;
}
