import { Prisma } from '../generated/prisma/client.ts';

/**
 * A Date for raw SQL against Prisma's DateTime columns (`timestamp(3)`, no time zone), which
 * Prisma fills and reads as UTC: passed as an ISO string and converted in the database, so the
 * server's and the driver's time zones play no part.
 */
export function utc(date: Date): Prisma.Sql {
  return Prisma.sql`(${date.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}
