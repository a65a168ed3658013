import type { Database } from './client.ts';

/**
 * Plain parameterised SQL on the pool beneath Prisma, for the hot paths only (a refresh, a login's
 * session write, the viewer's row): Prisma's query interpreter spends several times the CPU of
 * the statement itself there (about 0.17 ms against 0.05 ms per query, measured on these
 * machines). A plain string is sent unnamed, parsed and planned by PostgreSQL on every call.
 *
 * A `Statement` (see `statement`) is prepared once per pooled connection under its name and then
 * only bound and executed: neither its text crosses the wire nor PostgreSQL parses it again. For
 * statements run on every refresh; like any prepared statement it needs a session-level
 * connection (a transaction-mode pooler in between must support prepared statements).
 *
 * Prisma keeps DateTime columns as `timestamp(3)` in UTC: parameters are passed through `TS(n)`
 * and columns read through `MS(column)` (milliseconds since the epoch), so neither the server's
 * nor the driver's time zone plays a part.
 */
export async function queryRows<T>(db: Database, query: string | Statement, values: readonly unknown[]): Promise<T[]> {
  const result = await db.pool.query(
    typeof query === 'string'
      ? { text: query, values: values as unknown[] }
      : { name: query.name, text: query.text, values: values as unknown[] },
  );
  return result.rows as T[];
}

/** A named statement, prepared on each connection at its first use (see queryRows). */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const statementNames = new Set<string>();

/**
 * Declares a named statement, once, at module level: node-postgres refuses a name prepared on a
 * connection with another text, so a name may be declared only once.
 */
export function statement(name: string, text: string): Statement {
  if (statementNames.has(name)) throw new Error(`statement ${name} is declared twice`);
  statementNames.add(name);
  return { name: `gatehouse.${name}`, text };
}

/** A timestamp parameter: pass `date.toISOString()` as `$n`. */
export const TS = (n: number): string => `($${n}::timestamptz AT TIME ZONE 'UTC')`;

/** A DateTime column as milliseconds since the epoch (a JS number), or null. */
export const MS = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::float8`;

export const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
