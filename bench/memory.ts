// npm run bench:memory — the server's start-to-ready time and memory on PostgreSQL under a fixed load,
// as `npm start` runs it (the built bundle, production argon2 parameters): a first start on an empty
// database (migrations applied), a restart on the same database (nothing pending), the RSS at idle,
// the peak RSS (VmHWM) under a fixed mix of `viewer` queries, refreshes and logins, and where the
// resident memory sits (/proc/<pid>/smaps_rollup). BENCH_DATABASE_URL names the server (default the
// local PostgreSQL); MALLOC_* (scripts/start.sh sets MALLOC_ARENA_MAX=1 unless given) and BENCH_NODE_ARGS (added
// to the script's node flags) pass through to the server, to compare settings.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, type ServerProcess, spawnServer } from './http.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PASSWORD = 'correct horse battery staple';
const CLIENTS = 16;
const SECONDS = 5;
const LIMITS = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((op) => [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((n) => [n, '100000000/1m'])),
);

function status(pid: number, key: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** Anonymous (heap, malloc, WASM memories) vs file-backed (code, mapped files) resident MiB. */
function rollup(pid: number): string {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (key: string) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  return `anonymous ${Math.round(kib('Anonymous') / 1024)} MiB, file-backed ${Math.round((kib('Rss') - kib('Anonymous')) / 1024)} MiB`;
}

/** CPU time (user + system) the process has used: start-up cost that the machine's other load does not inflate. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks of 10 ms
}

async function start(env: Record<string, string>): Promise<ServerProcess & { cpuMs: number }> {
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // scripts/start.sh sets MALLOC_ARENA_MAX=1 unless given; MALLOC_ARENA_MAX=0 gives glibc's own (8 arenas per core).
  const malloc = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_')));
  const serverEnv = { LOG_LEVEL: 'warn', ADMIN_PASSWORD: PASSWORD, ...LIMITS, ...malloc, ...env } as Record<string, string>;
  const server = await spawnServer(ROOT, serverEnv, nodeArgs);
  return { ...server, cpuMs: cpuMs(server.child.pid!) };
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}

async function run(worker: (i: number) => Promise<unknown>, clients: number): Promise<number> {
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (performance.now() < end) {
        await worker(i).catch(() => {});
        done++;
      }
    }),
  );
  return done;
}

async function fixedLoad(port: number): Promise<string> {
  const users = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const email = `mem-${Date.now()}-${i}@example.test`;
      const vars = { e: email, p: PASSWORD };
      await post(port, {
        query: 'mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p }) { id } }',
        variables: vars,
      });
      const res = await post(port, {
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
        variables: vars,
      });
      return { email, ...(res.json.data?.login as { accessToken: string; refreshToken: string }) };
    }),
  );
  // The three scenarios at once, as a busy service sees them: reads, rotations and password hashes.
  const [viewers, refreshes, logins] = await Promise.all([
    run((i) => post(port, { query: '{ viewer { id email } }' }, { authorization: `Bearer ${users[i]!.accessToken}` }), CLIENTS),
    run(async (i) => {
      const res = await post(port, {
        query: 'mutation($t: String!) { refresh(refreshToken: $t) { refreshToken } }',
        variables: { t: users[i]!.refreshToken },
      });
      const next = res.json.data?.refresh?.refreshToken;
      if (typeof next === 'string') users[i]!.refreshToken = next;
    }, 8),
    run(
      (i) =>
        post(port, {
          query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
          variables: { e: users[i]!.email, p: PASSWORD },
        }),
      4,
    ),
  ]);
  return `${viewers} viewer queries, ${refreshes} refreshes, ${logins} logins in ${SECONDS} s`;
}

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `gatehouse_mem_${Date.now()}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-mem-'));
execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // what `npm start` runs first
try {
  const env = { DATA_DIR: dataDir, DATABASE_URL: url.href };
  const first = await start(env);
  await stop(first);
  const server = await start(env);
  const pid = server.child.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = status(pid, 'VmRSS');
  const idleRollup = rollup(pid);
  const load = await fixedLoad(server.port);
  const peak = status(pid, 'VmHWM');
  const after = status(pid, 'VmRSS');
  const afterRollup = rollup(pid);
  await stop(server);
  console.log(`\nGatehouse memory on PostgreSQL (${serverUrl.replace(/\/\/[^@]*@/, '//')}), production settings\n`);
  console.log('| figure | value | goal |');
  console.log('| --- | --- | --- |');
  const startRow = (s: { startupMs: number; cpuMs: number }) => `${Math.round(s.startupMs)} ms (CPU ${s.cpuMs} ms)`;
  console.log(`| start to ready, empty database (migrations applied) | ${startRow(first)} | |`);
  console.log(`| start to ready, restart (nothing pending) | ${startRow(server)} | < 2000 ms |`);
  console.log(`| RSS idle | ${idle} MiB (${idleRollup}) | |`);
  console.log(`| peak RSS under load | ${peak} MiB | < 150 MiB |`);
  console.log(`| RSS after load | ${after} MiB (${afterRollup}) | |`);
  console.log(
    `\nMALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '1 (scripts/start.sh)'}. Load: ${load}; ${CLIENTS} viewer, 8 refresh and 4 login clients at once.`,
  );
} finally {
  closeAgent();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await rm(dataDir, { recursive: true, force: true });
}
