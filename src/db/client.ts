import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;
/** The client inside an interactive transaction. */
export type TransactionClient = Prisma.TransactionClient;

/** One Prisma client over node-postgres; the same code serves embedded PGlite and PostgreSQL. */
export function createDatabase(connectionString: string, poolSize: number): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: poolSize }) });
}
