import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotp, TOTP_PERIOD_SECONDS } from '../src/crypto/totp.ts';
import { copyTables } from '../src/db/table-copy.ts';
import { EnableTwoFactorDocument, GenerateTwoFactorSecretDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { freePort } from './helpers/free-port.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { RELAXED_RATE_LIMITS } from './helpers/rate-limits.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// An operator upgrading from a version whose embedded database was PGlite (DATA_DIR/pglite): the new
// version stops with a message naming `npm run db:migrate-embedded`; after that one command, everyone
// still signs in (passwords, 2FA secrets and signing keys encrypted under SECRET, live sessions).
const ROOT = path.resolve(import.meta.dirname, '..');
const MIGRATIONS = path.join(ROOT, 'prisma/migrations');
const SECRET = 'test-secret-test-secret-test-secret-0123456789'; // startTestApp's
const now = () => Math.floor(Date.now() / 1000);

interface Run {
  code: number | null;
  output: string;
}

function run(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Run>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      SECRET,
      LOG_LEVEL: 'warn',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      ...RELAXED_RATE_LIMITS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, output })));
  return { child, done, output: () => output };
}

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, Record<string, unknown> | null>; errors?: { extensions?: { code?: string } }[] };
}

const LOGIN =
  'mutation($e: String!, $p: String!, $o: String) { login(email: $e, password: $p, otp: $o, mode: JSON) { accessToken refreshToken } }';

/** What an older Gatehouse left: a PGlite directory with every migration applied and the rows of `sourceUrl`. */
async function writePgliteDirectory(dir: string, sourceUrl: string): Promise<void> {
  const lite = new PGlite(dir);
  const source = new pg.Client({ connectionString: sourceUrl });
  await source.connect();
  try {
    const names = (await readdir(MIGRATIONS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const name of names.sort()) await lite.exec(await readFile(path.join(MIGRATIONS, name, 'migration.sql'), 'utf8'));
    await lite.exec(
      'CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0)',
    );
    const history = await source.query<{ batch: string }>('SELECT json_agg(m)::text AS batch FROM _prisma_migrations m');
    await lite.query('INSERT INTO _prisma_migrations SELECT * FROM json_populate_recordset(NULL::_prisma_migrations, $1::json)', [
      history.rows[0]?.batch,
    ]);
    await lite.exec('SET session_replication_role = replica');
    await copyTables(source, lite);
  } finally {
    await source.end();
    await lite.close();
  }
}

describe('a DATA_DIR of the PGlite versions', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    database = await createIsolatedDatabase();
    app = await startTestApp({ DATABASE_URL: database.url });
    const parent = await mkdtemp(path.join(tmpdir(), 'gatehouse-pglite-'));
    await chmod(parent, 0o755); // as root, PostgreSQL's own account passes through it
    dataDir = path.join(parent, 'data');
    await mkdir(dataDir, { mode: 0o700 });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    if (dataDir) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('stops the server with a message naming the migration; after `npm run db:migrate-embedded` everyone still signs in', async () => {
    // Users, a live session, a 2FA secret and the signing keys, all written by the real server.
    const plain = await registerAndLogin(app);
    const enrolled = await registerAndLogin(app);
    const setup = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: enrolled.accessToken });
    const secret = setup.data!.generateTwoFactorSecret.secret;
    const enable = await app.client.request(
      EnableTwoFactorDocument,
      { otp: await generateTotp(secret, now() - TOTP_PERIOD_SECONDS) },
      { token: enrolled.accessToken },
    );
    expect(enable.errors).toBeUndefined();
    const kids = ((await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids.length).toBeGreaterThan(0);
    await writePgliteDirectory(path.join(dataDir, 'pglite'), database.url);

    const port = String(await freePort());
    const refused = await run(['src/main.ts'], { DATA_DIR: dataDir, PORT: port }).done;
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`${path.join(dataDir, 'pglite')} holds a database of an older Gatehouse (PGlite)`);
    expect(refused.output).toContain('npm run db:migrate-embedded');
    expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);

    const migrated = await run(['scripts/db-migrate-embedded.ts'], { DATA_DIR: dataDir }).done;
    expect(migrated.output).toMatch(/ {2}User: \d+ rows/);
    expect(migrated.code).toBe(0);
    expect(existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true); // kept
    const again = await run(['scripts/db-migrate-embedded.ts'], { DATA_DIR: dataDir }).done;
    expect(again.output).toContain('was already migrated');

    const server = run(['src/main.ts'], { DATA_DIR: dataDir, PORT: port });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (
        let i = 0;
        !(await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        ));
        i++
      ) {
        if (server.child.exitCode !== null || i > 1200) throw new Error(`server did not start:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await gql(url, LOGIN, { e: plain.email, p: TEST_PASSWORD })).errors).toBeUndefined();
      // The 2FA secret was decrypted under the same SECRET: a password alone is not enough, password + code is.
      expect((await gql(url, LOGIN, { e: enrolled.email, p: TEST_PASSWORD })).errors?.[0]?.extensions?.code).toBe('OTP_REQUIRED');
      expect((await gql(url, LOGIN, { e: enrolled.email, p: TEST_PASSWORD, o: await generateTotp(secret) })).errors).toBeUndefined();
      // A session from before the migration still refreshes; the same signing keys are published.
      const refreshed = await gql(url, 'mutation($t: String) { refresh(refreshToken: $t, mode: JSON) { refreshToken } }', {
        t: plain.refreshToken,
      });
      expect(refreshed.errors).toBeUndefined();
      const published = ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map(
        (k) => k.kid,
      );
      expect(published).toEqual(expect.arrayContaining(kids));
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
  }, 600_000);
});
