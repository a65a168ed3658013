import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;
/** The client inside an interactive transaction. */
export type TransactionClient = Prisma.TransactionClient;

/** How busy a client's connection pool is (the metrics' gauges). */
export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

const pools = new WeakMap<Database, pg.Pool>();

/**
 * One Prisma client over node-postgres; the same code serves embedded PGlite and PostgreSQL.
 * A new connection that does not complete within `connectTimeoutMs` fails (node-postgres waits
 * forever by default): an unreachable database then answers SERVICE_UNAVAILABLE, it never hangs.
 * The pool is created here (and ended by $disconnect) so its use can be reported (poolStats).
 */
export function createDatabase(connectionString: string, poolSize: number, connectTimeoutMs = 5000): Database {
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: connectTimeoutMs });
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

export function poolStats(db: Database): PoolStats | null {
  const pool = pools.get(db);
  if (!pool) return null;
  return { max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
