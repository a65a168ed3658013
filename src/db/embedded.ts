import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { CycleAwareQueryQueue } from './pglite-queue.ts';

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server; use it like any PostgreSQL URL (PrismaPg, pg, the schema engine). */
  connectionString: string;
  /** Stops the socket server, then closes PGlite (flushing it to dataDir). End your pools first. */
  stop(): Promise<void>;
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
 * Starts PGlite behind a PostgreSQL wire-protocol socket on 127.0.0.1, on a port the OS picks (port 0:
 * PGLiteSocketServer reads the real port back from the listening socket), so parallel test files never collide.
 * PGlite runs one query at a time; the server queues queries from all sockets and keeps an open transaction
 * on its own socket. Never open the same dataDir from two processes: PGlite takes no lock on it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true }); // PGlite makes one level only
  const db = options.dataDir === undefined ? await createInMemoryPGlite() : new PGlite(options.dataDir);
  await db.waitReady;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 100,
  });
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
  // getServerConn() is "host:port" once listening.
  const port = Number(server.getServerConn().split(':').pop());
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
