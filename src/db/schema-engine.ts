// Migrations through Prisma's official WASM schema engine and the pg driver adapter: Prisma's native
// schema-engine binary cannot be downloaded here, and the WASM engine needs no binary at all.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrationsUpToDate } from './migrations-up-to-date.ts';

const SCHEMA_FILE = 'schema.prisma';
const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

// Per glue-module state, kept on globalThis: a test runner that re-evaluates this file (vitest does, per test
// file) must reuse the wasm instance the glue module already holds rather than load a second one.
interface EngineRuntime {
  ready: Promise<void>;
  timers: Set<NodeJS.Timeout>; // the engine's pending timeouts; it never clears them itself
  activeEngines: number;
  panic?: string; // message of the last Rust panic, reported instead of "RuntimeError: unreachable"
}
const globals = globalThis as Record<symbol, unknown>;
const RUNTIMES = Symbol.for('gatehouse.schemaEngineWasm');
globals[RUNTIMES] ??= new WeakMap<object, EngineRuntime>();
const runtimes = globals[RUNTIMES] as WeakMap<object, EngineRuntime>;

// The package's default entry imports the .wasm as an ES module, which only bundlers understand, so the
// module is compiled and instantiated here by hand, once per process.
function loadSchemaEngine(): EngineRuntime {
  let runtime = runtimes.get(bg);
  if (runtime) return runtime;
  const timers = new Set<NodeJS.Timeout>();
  const imports: WebAssembly.ModuleImports = { ...bg };
  for (const name of Object.keys(bg).filter((n) => n.startsWith('__wbg_setTimeout_'))) {
    // Timeouts the engine arms (applyMigrations leaves a 10 s one behind) outlive the call and would hold the
    // process open; they are tracked so withEngine can clear them once no engine is left to fire them at.
    imports[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        callback();
      }, ms >>> 0);
      timers.add(timer);
      return timer;
    };
  }
  const ready = (async () => {
    // The package does not export the .wasm path; it sits beside the glue module, which is exported.
    const glue = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(path.dirname(glue), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  })();
  runtime = { ready, timers, activeEngines: 0 };
  const current = runtime;
  // Rust panics call this global hook (Prisma's client installs one too; keep calling it).
  const hooks = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
  const previous = hooks.PRISMA_WASM_PANIC_REGISTRY;
  hooks.PRISMA_WASM_PANIC_REGISTRY = {
    set_message(message) {
      current.panic = message;
      previous?.set_message(message);
    },
  };
  ready.catch(() => runtimes.delete(bg)); // let a later call retry
  runtimes.set(bg, runtime);
  return runtime;
}

// adapter-pg 7.10 has no column type for PostgreSQL's internal one-byte "char" (OID 18), which the engine's
// introspection reads from pg_catalog (relkind, contype, ...), and the engine wants such columns as
// characters, not text ("Getting constraint_type from ResultRow" panics otherwise). So the connection
// relabels "char" fields as "char"[] (OID 1002, which the adapter does map, to CharacterArray), and
// restoreCharColumns turns a CharacterArray column whose values are not arrays back into Character. The values
// themselves are untouched: pg already parsed them as one-character strings. fixAdapter also repairs scripts.
const PG_CHAR_OID = 18;
const PG_CHAR_ARRAY_OID = 1002;
function relabelCharFields<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as { fields?: { dataTypeID: number }[] } | null)?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_CHAR_ARRAY_OID;
    }
  }
  return result;
}
class CharRelabellingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has many overloads; arguments pass through
  override query(...args: any[]): any {
    const callbackAt = args.findIndex((a) => typeof a === 'function');
    if (callbackAt >= 0) {
      const callback = args[callbackAt];
      args[callbackAt] = (err: unknown, res: unknown) => callback(err, err ? res : relabelCharFields(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    return out instanceof Promise ? out.then(relabelCharFields) : out;
  }
}

function restoreCharColumns(result: SqlResultSet): SqlResultSet {
  result.columnTypes = result.columnTypes.map((type, i) =>
    type === ColumnTypeEnum.CharacterArray && result.rows.every((row) => !Array.isArray(row[i])) ? ColumnTypeEnum.Character : type,
  );
  return result;
}
function fixAdapter<T extends SqlQueryable>(queryable: T): T {
  return new Proxy(queryable, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'queryRaw') return (query: SqlQuery) => target.queryRaw(query).then(restoreCharColumns);
      if (key === 'executeScript') {
        // adapter-pg 7.10 splits scripts on every ";", breaking migrations with functions, DO blocks or ";" in
        // strings. A query without parameters goes out as one simple-protocol query, which PostgreSQL runs
        // statement by statement in one implicit transaction, as the native engine's raw command does.
        return (script: string) => target.executeRaw({ sql: script, args: [], argTypes: [] }).then(() => {});
      }
      if (key === 'startTransaction') {
        return (...args: unknown[]) => (value as (...a: unknown[]) => Promise<Transaction>).apply(target, args).then(fixAdapter);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
function fixedFactory(inner: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: () => inner.connect().then(fixAdapter),
    connectToShadowDb: () => inner.connectToShadowDb().then(fixAdapter),
  };
}

/**
 * SchemaEngine.new connects and runs one probe (does the schema exist, server version) even when the work is
 * a pure schema-to-schema diff. This adapter answers that probe as a PostgreSQL 15 server and refuses anything
 * else, so diffSchemas needs no server, and an engine that starts wanting one fails loudly instead of silently.
 */
function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse = (what: string) =>
    Promise.reject(new Error(`diffSchemas runs without a database, but the schema engine asked for: ${what}`));
  const adapter: SqlDriverAdapter = {
    provider: 'postgres',
    adapterName: 'gatehouse-offline',
    async queryRaw(query) {
      if (!query.sql.includes('version()')) return refuse(query.sql);
      return {
        columnNames: ['exists', 'version', 'numeric_version'],
        columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
        rows: [[true, 'PostgreSQL 15.0 (no database: schema diff only)', 150000]],
      };
    },
    executeRaw: (query) => refuse(query.sql),
    executeScript: (script) => refuse(script),
    startTransaction: () => refuse('a transaction'),
    getConnectionInfo: () => ({ supportsRelationJoins: true }),
    dispose: async () => {},
  };
  return {
    provider: 'postgres',
    adapterName: adapter.adapterName,
    connect: async () => adapter,
    connectToShadowDb: async () => adapter,
  };
}

function logEngine(line: string): void {
  // A developer's switch for tooling output, not application configuration, so it is read here.
  if (process.env.DEBUG_MIGRATIONS) process.stderr.write(`[schema-engine] ${line}\n`);
}

/** Runs fn with a fresh engine, then frees it and closes its connections so the process can exit. */
async function withEngine<T>(
  connectionString: string | null,
  schemaText: string | null,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const runtime = loadSchemaEngine();
  await runtime.ready;
  // One connection, like the native engine: its session-level advisory lock must be taken and released on the
  // same connection.
  const pool = connectionString ? new pg.Pool({ connectionString, max: 1, Client: CharRelabellingClient }) : null;
  const factory = pool ? fixedFactory(new PrismaPg(pool)) : offlineAdapterFactory();
  runtime.activeEngines++;
  let engine: SchemaEngine | undefined;
  try {
    engine = await bg.SchemaEngine.new(
      { datamodels: schemaText === null ? undefined : [[SCHEMA_FILE, schemaText]] },
      logEngine,
      bindMigrationAwareSqlAdapterFactory(factory), // binds the methods the engine calls unbound
    );
    return await fn(engine);
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError && runtime.panic) {
      // The instance is kept: the glue caches views of its memory, so a second instance cannot replace it.
      const message = runtime.panic;
      runtime.panic = undefined;
      throw new Error(`schema engine panicked: ${message}`, { cause: error });
    }
    // The engine rejects with strings or objects at times; always hand callers an Error.
    throw error instanceof Error ? error : new Error(`schema engine: ${String(error)}`, { cause: error });
  } finally {
    try {
      engine?.free();
    } catch {
      // After a panic the engine is still marked borrowed and cannot be freed; its memory is simply lost.
    }
    await pool?.end();
    if (--runtime.activeEngines === 0) {
      for (const timer of runtime.timers) clearTimeout(timer);
      runtime.timers.clear();
    }
  }
}

/** The diff script, or '' when the engine says there is nothing to do (exitCode 2 = non-empty diff). */
async function diffScript(engine: SchemaEngine, from: Parameters<SchemaEngine['diff']>[0]['from'], schemaText: string) {
  const result = await engine.diff({
    from,
    to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_FILE, content: schemaText }] },
    script: true,
    exitCode: true,
    filters: NO_FILTERS,
  });
  return result.exitCode === 2 ? (result.stdout ?? '') : '';
}

/** Migration SQL from one schema text to another (from an empty database when fromSchemaText is null); no database. */
export function diffSchemas(fromSchemaText: string | null, toSchemaText: string): Promise<string> {
  return withEngine(null, toSchemaText, (engine) =>
    diffScript(
      engine,
      fromSchemaText === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: SCHEMA_FILE, content: fromSchemaText }] },
      toSchemaText,
    ),
  );
}

/** Reads migrationsDir the way the Prisma CLI does: <name>/migration.sql in name order, plus migration_lock.toml. */
export async function readMigrationsList(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => {
      const content = await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8').then(
        (value) => ({ tag: 'ok' as const, value }),
        (error: Error) => ({ tag: 'error' as const, value: error.message }), // the engine reports it by name
      );
      return { path: name, migrationFile: { path: 'migration.sql', content } };
    }),
  );
  const lockContent = await readFile(path.join(baseDir, 'migration_lock.toml'), 'utf8').catch(() => null);
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/**
 * Applies the migrations in migrationsDir that the database has not recorded in _prisma_migrations (the same
 * table, checksums and advisory lock as `prisma migrate deploy`); returns the names applied, [] when up to date.
 * An up-to-date database is recognised by one query, without booting the engine (every restart is one).
 */
export async function applyMigrations(connectionString: string, migrationsDir: string): Promise<string[]> {
  const migrationsList = await readMigrationsList(migrationsDir);
  if (await migrationsUpToDate(connectionString, migrationsList)) return [];
  return withEngine(connectionString, null, async (engine) => {
    const output = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return output.appliedMigrationNames;
  });
}

/**
 * SQL that would take the live database to schemaText; '' = in sync. The engine introspects the database
 * through the adapter (diff target `schemaDatasource`), so no shadow database is needed.
 */
export function schemaDriftSql(connectionString: string, schemaText: string): Promise<string> {
  return withEngine(connectionString, schemaText, (engine) =>
    diffScript(engine, { tag: 'schemaDatasource', files: [{ path: SCHEMA_FILE, content: schemaText }], configDir: '.' }, schemaText),
  );
}

/**
 * SQL that would take the state the migrations in migrationsDir produce to schemaText; '' = in sync. The
 * migrations are replayed on a throwaway embedded PostgreSQL (in a temporary directory) instead of a shadow
 * database on the operator's server, so no database needs to be running.
 */
export async function migrationsDriftSql(migrationsDir: string, schemaText: string): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-scratch-db-'));
  try {
    const scratch = await startEmbeddedPostgres({ dataDir, throwaway: true });
    try {
      await applyMigrations(scratch.connectionString, migrationsDir);
      return await schemaDriftSql(scratch.connectionString, schemaText);
    } finally {
      await scratch.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
