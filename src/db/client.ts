import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/**
 * The Prisma client, plus the node-postgres pool beneath it for the few hot paths (refresh,
 * login's session write, the viewer's row) where Prisma's query interpreter costs more CPU than
 * the statement itself (see src/db/raw.ts). Both share the pool's connections.
 */
export type Database = InstanceType<typeof PrismaClient> & { readonly pool: pg.Pool };
/** The client inside an interactive transaction. */
export type TransactionClient = Prisma.TransactionClient;

/** How busy a client's connection pool is (the metrics' gauges). */
export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/**
 * One Prisma client over node-postgres; the same code serves the embedded PostgreSQL and any other.
 * A new connection that does not complete within `connectTimeoutMs` fails (node-postgres waits
 * forever by default): an unreachable database then answers SERVICE_UNAVAILABLE, it never hangs.
 * `$disconnect()` ends the pool too.
 */
export function createDatabase(connectionString: string, poolSize: number, connectTimeoutMs = 5000): Database {
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: connectTimeoutMs });
  // An idle connection the server drops (a restart) must not crash the process before Prisma has
  // attached its own listener; the next query reconnects or reports the outage.
  pool.on('error', () => {});
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  return Object.assign(client, { pool });
}

/** How busy the pool is, for the metrics' gauges. */
export function poolStats(db: Database): PoolStats {
  const { pool } = db;
  return { max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
