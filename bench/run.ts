// npm run bench — starts Gatehouse as `npm start` would (a child process, production argon2
// parameters) and measures, in one run: start-up on an empty data directory, bearer-authenticated
// queries/s, refreshes/s, login latency against the bare password hash, and the server's memory.
// The embedded PostgreSQL always; PostgreSQL too when BENCH_DATABASE_URL (a server URL) is reachable.
// Memory: peak of the server's RSS plus (embedded) its PostgreSQL processes' PSS, see memory.ts.
// Options: BENCH_SECONDS (default 5 per scenario), BENCH_CONCURRENCY (default 16), BENCH_ONLY
// (`embedded` or `postgresql`), BENCH_NODE_ARGS (node flags for the server, e.g. `--cpu-prof`).
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { hashPassword, verifyPassword } from '../src/crypto/password.ts';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, type ServerProcess, spawnServer } from './http.ts';
import { samplePeakMemory, serverWithDatabaseMiB } from './memory.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PASSWORD = 'correct horse battery staple';
// All the load comes from one IP: per-operation budgets it cannot spend keep the limiters counting
// while the scenarios measure logins and refreshes rather than RATE_LIMITED answers.
const BENCH_RATE_LIMITS = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((op) =>
    [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((name) => [name, '100000000/1m']),
  ),
);

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

interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs `worker(i)` in CONCURRENCY loops for SECONDS; each call is one operation. */
async function load(worker: (i: number) => Promise<boolean>, concurrency = CONCURRENCY, seconds = SECONDS): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
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
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(q * (latencies.length - 1))] ?? 0) * 10) / 10;
  return { perSecond: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), errors };
}

async function benchOne(label: string, env: Record<string, string>) {
  const server = await startServer(env);
  const { port } = server;
  const idleRss = serverWithDatabaseMiB(server.child.pid!, env.DATA_DIR!);
  const peak = samplePeakMemory(server.child.pid!, env.DATA_DIR!);
  const users = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const email = `bench-${Date.now()}-${i}@example.test`;
      await post(port, {
        query: 'mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p }) { id } }',
        variables: { e: email, p: PASSWORD },
      });
      const login = await post(port, {
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
        variables: { e: email, p: PASSWORD },
      });
      return { email, ...(login.json.data?.login as { accessToken: string; refreshToken: string }) };
    }),
  );

  const viewer = await load(async (i) => {
    const res = await post(port, { query: '{ viewer { id email } }' }, { authorization: `Bearer ${users[i]!.accessToken}` });
    return res.json.data?.viewer?.email === users[i]!.email;
  });
  const refresh = await load(async (i) => {
    const res = await post(port, {
      query: 'mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }',
      variables: { t: users[i]!.refreshToken },
    });
    const next = res.json.data?.refresh;
    if (next) users[i]!.refreshToken = next.refreshToken as string;
    return !!next;
  });
  const login = await load(async (i) => {
    const res = await post(
      port,
      {
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        variables: { e: users[i]!.email, p: PASSWORD },
      },
      {},
    );
    return !!res.json.data?.login;
  }, 1);
  const loadedRss = peak.stop();
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  // A restart on the same data directory: what an operator waits for after a deploy.
  const restarted = await startServer(env);
  restarted.child.kill('SIGTERM');
  await new Promise((r) => restarted.child.once('exit', r));
  return {
    label,
    startupMs: Math.round(server.startupMs),
    restartMs: Math.round(restarted.startupMs),
    idleRss,
    loadedRss,
    viewer,
    refresh,
    login,
  };
}

async function bareVerifyMs(): Promise<number> {
  const hash = await hashPassword(PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await verifyPassword(hash, PASSWORD);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[10] ?? 0) * 10) / 10;
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
const results = [];
try {
  const only = process.env.BENCH_ONLY;
  if (only !== 'postgresql') results.push(await benchOne('embedded PostgreSQL', { DATA_DIR: path.join(dataDir, 'embedded') }));
  const scratch =
    only === 'embedded' ? null : await scratchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  if (scratch) {
    try {
      results.push(await benchOne('PostgreSQL', { DATA_DIR: path.join(dataDir, 'pg'), DATABASE_URL: scratch.url }));
    } finally {
      await scratch.drop();
    }
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
const verify = await bareVerifyMs();

console.log(`\nGatehouse benchmark — ${SECONDS}s per scenario, ${CONCURRENCY} concurrent clients, client and server on this machine\n`);
console.log(
  '| database | start (empty dir) | restart | viewer queries/s (p50, p99 ms) | refreshes/s (p50, p99 ms) | login p50 ms | memory idle → peak (with its database) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const fmt = (l: LoadResult) => `${l.perSecond} (${l.p50}, ${l.p99})${l.errors ? `, ${l.errors} errors` : ''}`;
  console.log(
    `| ${r.label} | ${r.startupMs} ms | ${r.restartMs} ms | ${fmt(r.viewer)} | ${fmt(r.refresh)} | ${r.login.p50} | ${r.idleRss} → ${r.loadedRss} MiB |`,
  );
}
console.log(`\nBare argon2id verify (m=19456, t=2, p=1) in this process: median ${verify} ms.`);
for (const r of results) console.log(`${r.label}: login p50 / bare verify = ${(r.login.p50 / verify).toFixed(2)}`);
closeAgent();
