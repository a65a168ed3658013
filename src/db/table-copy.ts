// Copies every row of the public tables from one PostgreSQL database to another with the same schema:
// how `npm run db:migrate-embedded` moves a PGlite database into the embedded PostgreSQL server.
// Rows travel as JSON text and are rebuilt on the target with json_populate_recordset, so each value
// goes through PostgreSQL's own text form (timestamps to the microsecond, bytea, arrays, enums) and
// nothing is re-typed in JavaScript.

/** The little both node-postgres and PGlite offer. */
export interface Queryable {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

const BATCH = 500;
const MIGRATIONS_TABLE = '_prisma_migrations';

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Names of the migrations applied (and not rolled back) on a database, in order. */
export async function appliedMigrationNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ migration_name: string }>(
    `SELECT migration_name FROM ${MIGRATIONS_TABLE} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return rows.map((r) => r.migration_name);
}

export async function publicTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  return rows.map((r) => r.name).filter((name) => name !== MIGRATIONS_TABLE);
}

export async function countRows(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${quote(table)}`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Copies the rows of every public table (the migrations table excepted: the target records its own)
 * and the sequences' positions. Run it inside a transaction on the target with
 * `session_replication_role = replica` (foreign keys are then checked by neither side's order).
 * Returns the rows copied per table; a count that differs afterwards throws.
 */
export async function copyTables(source: Queryable, target: Queryable): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  for (const table of await publicTables(source)) {
    let count = 0;
    for (let offset = 0; ; offset += BATCH) {
      const { rows } = await source.query<{ batch: string }>(
        `SELECT coalesce(json_agg(t)::text, '[]') AS batch FROM (SELECT * FROM public.${quote(table)} ORDER BY ctid LIMIT ${BATCH} OFFSET ${offset}) t`,
      );
      const batch = rows[0]?.batch ?? '[]';
      if (batch === '[]') break;
      await target.query(
        `INSERT INTO public.${quote(table)} SELECT * FROM json_populate_recordset(NULL::public.${quote(table)}, $1::json)`,
        [batch],
      );
      count += (JSON.parse(batch) as unknown[]).length;
    }
    const landed = await countRows(target, table);
    if (landed !== count) throw new Error(`Copying table ${table}: ${count} rows read, ${landed} on the target`);
    copied[table] = count;
  }
  const { rows: sequences } = await source.query<{ name: string; last_value: string | null; is_called: boolean }>(
    "SELECT s.sequencename AS name, s.last_value::text AS last_value, (s.last_value IS NOT NULL) AS is_called FROM pg_sequences s WHERE s.schemaname = 'public'",
  );
  for (const seq of sequences) {
    if (seq.last_value !== null) await target.query('SELECT setval($1, $2::bigint, true)', [`public.${quote(seq.name)}`, seq.last_value]);
  }
  return copied;
}
