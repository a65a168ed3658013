import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;
/** The client inside an interactive transaction. */
export type TransactionClient = Prisma.TransactionClient;

/**
 * One Prisma client over node-postgres; the same code serves the embedded PostgreSQL and any other.
 * A new connection that does not complete within `connectTimeoutMs` fails (node-postgres waits
 * forever by default): an unreachable database then answers SERVICE_UNAVAILABLE, it never hangs.
 */
export function createDatabase(connectionString: string, poolSize: number, connectTimeoutMs = 5000): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: poolSize, connectionTimeoutMillis: connectTimeoutMs }) });
}
