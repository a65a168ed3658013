import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;

/** One Prisma client over node-postgres; the same code serves embedded PGlite and PostgreSQL. */
export function createDatabase(connectionString: string, poolSize: number): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: poolSize }) });
}
