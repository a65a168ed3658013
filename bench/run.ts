// npm run bench — starts Gatehouse as `npm start` would (a child process, production argon2
// parameters) and prints issue #16's table, one column per database with the goal beside each
// figure: bearer `viewer { id email }` against anonymous `{ __typename }` on the same server,
// refresh chains, login latency against a bare argon2id verify of the same hash, peak RSS under
// that load, and start-up (first start on an empty database, then a restart).
// Embedded always (see DATABASES); PostgreSQL too when BENCH_DATABASE_URL (a server URL, default
// the local one) is reachable. Options: BENCH_SECONDS (default 5 per scenario), BENCH_CONCURRENCY
// (default 16 for queries), BENCH_CHAINS (default 8 refresh chains), BENCH_ONLY (`embedded` or
// `postgresql`), BENCH_SCENARIOS (comma list of viewer, refresh, login, install; default all; install is the
// production install's size, bench/install-size.ts, measured after the servers have stopped),
// BENCH_NODE_ARGS (node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { hashPassword, verifyPassword } from '../src/crypto/password.ts';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, type ServerProcess, spawnServer } from './http.ts';
import { dependencyCheck, type InstallSize, measureProductionInstall, mib, topPackages } from './install-size.ts';
import { embeddedDatabasePids, samplePeakMemory, serverWithDatabaseMiB } from './process-memory.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CHAINS = Number(process.env.BENCH_CHAINS ?? 8);
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'viewer,refresh,login,install').split(','));
const PASSWORD = 'correct horse battery staple';
// All the load comes from one IP: per-operation budgets it cannot spend keep the limiters counting
// while the scenarios measure logins and refreshes rather than RATE_LIMITED answers.
const BENCH_RATE_LIMITS = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((op) =>
    [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((name) => [name, '100000000/1m']),
  ),
);

/** The issue's goals, per database. */
interface Goals {
  viewerRatio: number;
  refreshPerSecond: number;
  loginRatio: number;
  peakRssMiB: number;
  restartMs: number;
  installMB: number;
}

/**
 * The databases measured, one column each. `prepare` gives the server's environment for a fresh
 * database and a clean-up, or null when that database is not available here. The embedded
 * column is today's embedded default (a DATA_DIR and no DATABASE_URL); a different embedded
 * engine needs only its own entry here.
 */
interface BenchDatabase {
  label: string;
  only: 'embedded' | 'postgresql';
  goals: Goals;
  prepare(dataDir: string): Promise<{ env: Record<string, string>; cleanUp(): Promise<void> } | null>;
}

const DATABASES: BenchDatabase[] = [
  {
    label: 'PostgreSQL',
    only: 'postgresql',
    goals: { viewerRatio: 0.85, refreshPerSecond: 1000, loginRatio: 1.1, peakRssMiB: 150, restartMs: 2000, installMB: 150 },
    async prepare(dataDir) {
      const scratch = await scratchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
      return scratch && { env: { DATA_DIR: path.join(dataDir, 'pg'), DATABASE_URL: scratch.url }, cleanUp: scratch.drop };
    },
  },
  {
    label: 'embedded',
    only: 'embedded',
    goals: { viewerRatio: 0.85, refreshPerSecond: 300, loginRatio: 1.1, peakRssMiB: 300, restartMs: 3000, installMB: 150 },
    async prepare(dataDir) {
      return { env: { DATA_DIR: path.join(dataDir, 'embedded') }, cleanUp: async () => {} };
    },
  },
];

function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawnServer(
    ROOT,
    {
      LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: PASSWORD,
      ...BENCH_RATE_LIMITS,
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_'))),
      ...env,
    },
    nodeArgs,
  );
}

/** VmRSS (now) or VmHWM (the peak since the process started) of a process, in MiB. */
function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** CPU time (user + system) a process has used so far, in ms. */
function cpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux), after the command name.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU time (user + system, ms) of each given process that still runs. */
function cpuByPid(pids: Iterable<number>): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, cpuMs(pid));
    } catch {
      // It ended meanwhile (its time is lost to the figure).
    }
  }
  return cpu;
}

/**
 * The benchmark's database processes on this machine (set per database by benchOne): the embedded
 * postmaster and its children, or on a server the backends connected to the scratch database and
 * the server's own background processes (WAL writer, checkpointer…, which work for these writes too).
 */
let databasePids: () => Promise<number[]> = async () => [];

async function serverDatabasePids(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND (datname = current_database() OR backend_type <> 'client backend')`,
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server's CPU time per operation (ms): unlike throughput, barely moved by other load on the machine. */
  serverCpuMs: number;
  /** The database's CPU time per operation (ms), its processes on this machine (see databasePids). */
  databaseCpuMs: number;
  /** This process's CPU time per operation (ms): the load generator's share of the machine. */
  clientCpuMs: number;
}

/** Runs `worker(i)` in `concurrency` loops for `seconds`; each call is one operation. `pid`: the server's, for its CPU time. */
async function load(
  pid: number,
  worker: (i: number) => Promise<boolean>,
  concurrency = CONCURRENCY,
  seconds = SECONDS,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const databaseBefore = await databasePids();
  const databaseCpuBefore = cpuByPid(databaseBefore);
  const cpuBefore = cpuMs(pid);
  const clientCpuBefore = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (performance.now() < end) {
        const t = performance.now();
        const ok = await worker(i).catch(() => false);
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  // Read at once, before the look-ups below count as the load generator's.
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpu = cpuMs(pid) - cpuBefore;
  // A process that started meanwhile (an autovacuum worker) counts in full.
  const databaseAfter = cpuByPid(new Set([...databaseBefore, ...(await databasePids())]));
  let databaseCpu = 0;
  for (const [databasePid, ms] of databaseAfter) databaseCpu += ms - (databaseCpuBefore.get(databasePid) ?? 0);
  const perOperation = (ms: number) => Math.round((ms / Math.max(latencies.length, 1)) * 1000) / 1000;
  const serverCpuMs = perOperation(serverCpu);
  const clientCpuMs = perOperation((clientCpu.user + clientCpu.system) / 1000);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(q * (latencies.length - 1))] ?? 0) * 10) / 10;
  return {
    perSecond: Math.round(latencies.length / seconds),
    p50: at(0.5),
    p99: at(0.99),
    errors,
    serverCpuMs,
    databaseCpuMs: perOperation(databaseCpu),
    clientCpuMs,
  };
}

const EMPTY: LoadResult = { perSecond: 0, p50: 0, p99: 0, errors: 0, serverCpuMs: 0, databaseCpuMs: 0, clientCpuMs: 0 };

/** Two loads alternated in rounds, so a change in the machine's load over the run hits both alike. */
async function alternate(a: () => Promise<LoadResult>, b: () => Promise<LoadResult>, rounds = 2): Promise<[LoadResult, LoadResult]> {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const merge = (rs: LoadResult[]): LoadResult => ({
    perSecond: Math.round(rs.reduce((sum, r) => sum + r.perSecond, 0) / rs.length),
    p50: Math.max(...rs.map((r) => r.p50)),
    p99: Math.max(...rs.map((r) => r.p99)),
    errors: rs.reduce((sum, r) => sum + r.errors, 0),
    serverCpuMs: Math.round((rs.reduce((sum, r) => sum + r.serverCpuMs, 0) / rs.length) * 1000) / 1000,
    databaseCpuMs: Math.round((rs.reduce((sum, r) => sum + r.databaseCpuMs, 0) / rs.length) * 1000) / 1000,
    clientCpuMs: Math.round((rs.reduce((sum, r) => sum + r.clientCpuMs, 0) / rs.length) * 1000) / 1000,
  });
  return [merge(as), merge(bs)];
}

async function signUp(port: number, email: string): Promise<{ email: string; accessToken: string; refreshToken: string }> {
  for (let attempt = 1; ; attempt++) {
    await post(port, {
      query: 'mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p }) { id } }',
      variables: { e: email, p: PASSWORD },
    });
    const login = await post(port, {
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
      variables: { e: email, p: PASSWORD },
    });
    const tokens = login.json.data?.login as { accessToken: string; refreshToken: string } | undefined;
    if (tokens) return { email, ...tokens };
    if (attempt === 5) throw new Error(`could not sign up ${email}: ${JSON.stringify(login.json.errors)}`);
  }
}

async function stopServer(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}

async function benchOne(database: BenchDatabase, env: Record<string, string>) {
  const first = await startServer(env);
  await stopServer(first);
  // Measured on the restarted server: the figures of a server that has started before.
  const server = await startServer(env);
  const { port } = server;
  const pid = server.child.pid!;
  // With the embedded database, its PostgreSQL processes count too (by PSS: they share buffers).
  const idleRss = serverWithDatabaseMiB(pid, env.DATA_DIR!);
  const peak = samplePeakMemory(pid, env.DATA_DIR!);
  const databaseUrl = env.DATABASE_URL;
  databasePids = databaseUrl ? () => serverDatabasePids(databaseUrl) : async () => embeddedDatabasePids(env.DATA_DIR!);
  // One at a time, retried: a burst of sign-ups on a loaded machine would meet the password-hash
  // admission gate (SERVICE_BUSY) and leave users without tokens.
  const users: { email: string; accessToken: string; refreshToken: string }[] = [];
  for (let i = 0; i < Math.max(CONCURRENCY, CHAINS); i++) users.push(await signUp(port, `bench-${Date.now()}-${i}@example.test`));

  const half = SECONDS / 2;
  const [anonymous, viewer] = SCENARIOS.has('viewer')
    ? await alternate(
        () =>
          load(
            pid,
            async () =>
              ((await post(port, { query: '{ __typename }' })).json.data as { __typename?: unknown } | undefined)?.__typename === 'Query',
            CONCURRENCY,
            half,
          ),
        () =>
          load(
            pid,
            async (i) => {
              const res = await post(port, { query: '{ viewer { id email } }' }, { authorization: `Bearer ${users[i]!.accessToken}` });
              return res.json.data?.viewer?.email === users[i]!.email;
            },
            CONCURRENCY,
            half,
          ),
      )
    : [EMPTY, EMPTY];
  const refresh = SCENARIOS.has('refresh')
    ? await load(
        pid,
        async (i) => {
          const res = await post(port, {
            query: 'mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }',
            variables: { t: users[i]!.refreshToken },
          });
          const next = res.json.data?.refresh;
          if (next) users[i]!.refreshToken = next.refreshToken as string;
          return !!next;
        },
        CHAINS,
      )
    : EMPTY;
  // Each login is followed by a bare verify of the same password against a hash with the same
  // parameters in this process, so that both medians see the same load on the machine. Each is
  // timed on its own: load() times the pair, so its percentiles are replaced by the login's.
  const bareVerify: number[] = [];
  const loginMs: number[] = [];
  let bareVerifyCpuMs = 0;
  const loginPair = SCENARIOS.has('login')
    ? await load(
        pid,
        async (i) => {
          const started = performance.now();
          const res = await post(port, {
            query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
            variables: { e: users[i]!.email, p: PASSWORD },
          });
          loginMs.push(performance.now() - started);
          const t = performance.now();
          const cpu = process.cpuUsage();
          await verifyPassword(await benchHash, PASSWORD);
          bareVerify.push(performance.now() - t);
          const verifyCpu = process.cpuUsage(cpu);
          bareVerifyCpuMs += (verifyCpu.user + verifyCpu.system) / 1000;
          return !!res.json.data?.login;
        },
        1,
      )
    : EMPTY;
  // The load generator's CPU per login, without the bare verify it runs after each.
  const loginClientCpuMs = Math.round((loginPair.clientCpuMs - bareVerifyCpuMs / Math.max(loginMs.length, 1)) * 1000) / 1000;
  const login = SCENARIOS.has('login')
    ? { ...loginPair, p50: median(loginMs), p99: percentile(loginMs, 0.99), clientCpuMs: loginClientCpuMs }
    : EMPTY;
  // What waking from idle costs here: one login at a time leaves the server (and PostgreSQL) idle
  // during each bare verify, so each login starts cold. The same anonymous request, one at a time,
  // back to back and each after a bare verify, as a login is.
  const wakeUp = SCENARIOS.has('login') ? await idleWakeUp(port) : null;
  const peakRss = Math.max(peak.stop(), memoryMiB(pid, 'VmHWM'));
  await stopServer(server);
  return {
    database,
    bareVerifyMs: median(bareVerify),
    firstStartMs: Math.round(first.startupMs),
    restartMs: Math.round(server.startupMs),
    idleRss,
    peakRss,
    anonymous,
    viewer,
    refresh,
    login,
    wakeUp,
  };
}

/** Median latency (ms) of `{ __typename }` sent one at a time: back to back, and each after a bare verify here. */
async function idleWakeUp(port: number): Promise<{ backToBack: number; afterPause: number }> {
  const timed = async (pause: boolean) => {
    const ms: number[] = [];
    for (let i = 0; i < 100; i++) {
      if (pause) await verifyPassword(await benchHash, PASSWORD);
      const started = performance.now();
      await post(port, { query: '{ __typename }' });
      ms.push(performance.now() - started);
    }
    return median(ms);
  };
  return { backToBack: await timed(false), afterPause: await timed(true) };
}

/** The production parameters (PASSWORD_HASH_* defaults), as the server hashes the users' passwords. */
const benchHash = hashPassword(PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 });

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? 0) * 10) / 10;
}

async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const name = `gatehouse_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    return null;
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // what `npm start` runs
const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-'));
await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL's own account passes through it
const results: Awaited<ReturnType<typeof benchOne>>[] = [];
try {
  for (const database of DATABASES) {
    if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== database.only) continue;
    const prepared = await database.prepare(dataDir);
    if (!prepared) {
      console.log(`${database.label}: not reachable, skipped`);
      continue;
    }
    try {
      results.push(await benchOne(database, prepared.env));
    } finally {
      await prepared.cleanUp();
    }
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

const mark = (met: boolean) => (met ? '✓' : '✗');
const ratio = (x: number) => `${x.toFixed(2)}×`;
const fmt = (l: LoadResult) => `${l.perSecond}/s (p50 ${l.p50}, p99 ${l.p99} ms)${l.errors ? `, ${l.errors} errors` : ''}`;
type Result = (typeof results)[number];
const rows: [string, (r: Result) => [string, string]][] = [
  [
    'bearer `viewer { id email }` vs anonymous `{ __typename }`',
    (r) => {
      const x = r.viewer.perSecond / Math.max(r.anonymous.perSecond, 1);
      return [
        `${r.viewer.perSecond} vs ${r.anonymous.perSecond} req/s (${ratio(x)})`,
        `≥ ${r.database.goals.viewerRatio}× ${mark(x >= r.database.goals.viewerRatio)}`,
      ];
    },
  ],
  [
    'server CPU per request: anonymous, viewer, refresh, login (ms)',
    (r) => [[r.anonymous, r.viewer, r.refresh, r.login].map((l) => l.serverCpuMs).join(', '), '–'],
  ],
  [
    'database CPU per request (its processes on this machine): anonymous, viewer, refresh, login (ms)',
    (r) => [[r.anonymous, r.viewer, r.refresh, r.login].map((l) => l.databaseCpuMs).join(', '), '–'],
  ],
  [
    'load generator (this process, with its memory sampler) CPU per request: anonymous, viewer, refresh, login without its bare verify (ms)',
    (r) => [[r.anonymous, r.viewer, r.refresh, r.login].map((l) => l.clientCpuMs).join(', '), '–'],
  ],
  [
    `refresh chains (${CHAINS} sessions back to back)`,
    (r) => [fmt(r.refresh), `≥ ${r.database.goals.refreshPerSecond}/s ${mark(r.refresh.perSecond >= r.database.goals.refreshPerSecond)}`],
  ],
  [
    'login median / bare argon2id verify, same hash',
    (r) => {
      const x = r.login.p50 / r.bareVerifyMs;
      return [
        `${r.login.p50} / ${r.bareVerifyMs} ms (${ratio(x)})`,
        `≤ ${r.database.goals.loginRatio}× ${mark(x <= r.database.goals.loginRatio)}`,
      ];
    },
  ],
  [
    'anonymous request one at a time: back to back / each after a bare verify, as each login here (the wake-up such a login pays)',
    (r) => [r.wakeUp ? `${r.wakeUp.backToBack} / ${r.wakeUp.afterPause} ms` : '–', '–'],
  ],
  [
    'peak RSS of the server under that load',
    (r) => [
      `${r.peakRss} MiB (idle ${r.idleRss} MiB)`,
      `< ${r.database.goals.peakRssMiB} MB ${mark(r.peakRss * 1.048576 < r.database.goals.peakRssMiB)}`,
    ],
  ],
  [
    'start to ready: first start (empty database), restart',
    (r) => [
      `${r.firstStartMs} ms, ${r.restartMs} ms`,
      `restart < ${r.database.goals.restartMs / 1000} s ${mark(r.restartMs < r.database.goals.restartMs)}`,
    ],
  ],
];
console.log(
  `\nGatehouse benchmark — ${SECONDS}s per scenario, ${CONCURRENCY} concurrent clients for queries, ${CHAINS} refresh chains, 1 login at a time; client and server on this machine\n`,
);
console.log(`| figure | ${results.map((r) => `${r.database.label} | goal`).join(' | ')} |`);
console.log(`| --- | ${results.map(() => '--- | ---').join(' | ')} |`);
for (const [figure, cell] of rows) console.log(`| ${figure} | ${results.map((r) => cell(r).join(' | ')).join(' | ')} |`);
if (SCENARIOS.has('install') && results.length > 0) {
  // One install, two columns: `npm ci --omit=dev` (embedded: the binaries are optional dependencies) and the
  // same without the optional dependencies (PostgreSQL). Measured after the load, so it disturbs no figure.
  const install = await measureProductionInstall();
  const sizeOf = (r: Result): InstallSize => (r.database.only === 'embedded' ? install.embedded : install.postgresql);
  const command = (r: Result) => (r.database.only === 'embedded' ? 'npm ci --omit=dev' : 'npm ci --omit=dev --omit=optional');
  const cell = (r: Result) => [
    `${command(r)}: node_modules ${mib(sizeOf(r).bytes)} (+ dist/ ${mib(install.distBytes)})`,
    `< ${r.database.goals.installMB} MB ${mark(sizeOf(r).bytes / 1e6 < r.database.goals.installMB)}`,
  ];
  console.log(`| production install | ${results.map((r) => cell(r).join(' | ')).join(' | ')} |`);
  for (const r of results) console.log(`\n${r.database.label}, largest packages (MiB): ${topPackages(sizeOf(r))}`);
  console.log(`\n${dependencyCheck(install)}`);
}
closeAgent();
