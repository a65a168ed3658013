// npm run bench:stuffing — what a credential-stuffing attack does to real users (issue #13 item 2).
// Starts Gatehouse as `npm start` would (dist bundle, embedded PostgreSQL, production argon2
// parameters and the default PASSWORD_HASH_* admission settings) behind a trusted proxy address,
// so every request can come from its own client IP through X-Forwarded-For. Then, in one run:
//   quiet:  a real user signs in again and again from the IP they signed in from before (a known
//           IP), another from an IP new to their account, while BENCH_VIEWERS clients query `viewer`;
//   attack: the same, with BENCH_ATTACKERS concurrent wrong-password logins (each a new email from
//           a new IP, sent again as soon as the last one is answered, Retry-After ignored).
// Reported side by side: the real users' login latency (median, p90, max) and how many got in,
// `viewer` p50/p99, and the attack's answers. Client and server share this machine's cores.
// Options: BENCH_SECONDS per phase (default 10), BENCH_ATTACKERS (default 100), BENCH_VIEWERS (default 2).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword, verifyPassword } from '../src/crypto/password.ts';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, spawnServer } from './http.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ATTACKERS = Number(process.env.BENCH_ATTACKERS ?? 100);
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 2);
const PASSWORD = 'correct horse battery staple';
/** Pause between one real user's logins: a person, not a load generator. */
const USER_PAUSE_MS = 100;

// The attack comes from a new IP and targets a new email each time, so per-IP and per-account
// budgets never stop it (as with a botnet and a leaked list). The real users sign in far more often
// than a person would: budgets they cannot spend keep them measuring latency, not RATE_LIMITED.
const LOGIN_LIMITS = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((op) => [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((n) => [n, '100000000/1m'])),
);

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';
const from = (ip: string) => ({ 'x-forwarded-for': ip });
let attackCounter = 0;
let newcomerCounter = 0;
const attackerIp = () => {
  const n = attackCounter++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '–');

interface LoginStats {
  latencies: number[];
  ok: number;
  busy: number;
  other: number;
}

/** One real user signing in from `ip()` until `end`: latency of every attempt, and its outcome. */
async function realUser(port: number, email: string, ip: () => string, end: number): Promise<LoginStats> {
  const stats: LoginStats = { latencies: [], ok: 0, busy: 0, other: 0 };
  while (performance.now() < end) {
    const t = performance.now();
    const res = await post(port, { query: LOGIN, variables: { e: email, p: PASSWORD } }, from(ip()));
    stats.latencies.push(performance.now() - t);
    if (res.json.data?.login?.accessToken) stats.ok++;
    else if (res.json.errors?.[0]?.extensions?.code === 'SERVICE_BUSY') stats.busy++;
    else stats.other++;
    await new Promise((r) => setTimeout(r, USER_PAUSE_MS));
  }
  stats.latencies.sort((a, b) => a - b);
  return stats;
}

async function viewers(port: number, token: string, end: number): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: VIEWERS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const res = await post(port, { query: '{ viewer { id email } }' }, { authorization: `Bearer ${token}` });
        latencies.push(performance.now() - t);
        if (!res.json.data?.viewer) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, errors };
}

async function attack(port: number, end: number): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: ATTACKERS }, async () => {
      while (performance.now() < end) {
        const res = await post(
          port,
          { query: LOGIN, variables: { e: `victim-${attackCounter}@example.test`, p: 'hunter2 hunter2' } },
          from(attackerIp()),
        ).catch(() => null);
        const code = res ? `${res.status} ${res.json.errors?.[0]?.extensions?.code ?? 'ok'}` : 'network error';
        answers[code] = (answers[code] ?? 0) + 1;
      }
    }),
  );
  return answers;
}

async function phase(port: number, users: { known: string; newcomer: string }, token: string, attackers: boolean) {
  const end = performance.now() + SECONDS * 1000;
  const [known, newcomer, view, answers] = await Promise.all([
    realUser(port, users.known, () => '192.0.2.10', end),
    // A device the account has never signed in from: every attempt from yet another address.
    realUser(port, users.newcomer, () => `198.51.${(newcomerCounter >> 8) & 255}.${newcomerCounter++ & 255}`, end),
    viewers(port, token, end),
    attackers ? attack(port, end) : Promise.resolve({}),
  ]);
  return { known, newcomer, view, answers };
}

/** Median of a bare argon2id verification in this process: what a login cannot go below on this machine now. */
async function bareVerifyMs(): Promise<number> {
  const hash = await hashPassword(PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await verifyPassword(hash, PASSWORD);
    times.push(performance.now() - t);
  }
  return quantile(
    times.sort((a, b) => a - b),
    0.5,
  );
}

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // what `npm start` runs
const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-stuffing-'));
const server = await spawnServer(ROOT, {
  LOG_LEVEL: 'error',
  DATA_DIR: dataDir,
  ADMIN_PASSWORD: PASSWORD,
  TRUST_PROXY: '127.0.0.1',
  ...LOGIN_LIMITS,
});
try {
  const { port } = server;
  const users = { known: `known-${Date.now()}@example.test`, newcomer: `newcomer-${Date.now()}@example.test` };
  for (const email of Object.values(users)) {
    await post(port, {
      query: 'mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p }) { id } }',
      variables: { e: email, p: PASSWORD },
    });
  }
  // The known user has signed in from 192.0.2.10 before: that IP is known to the account.
  const first = await post(port, { query: LOGIN, variables: { e: users.known, p: PASSWORD } }, from('192.0.2.10'));
  const token = String(first.json.data?.login?.accessToken ?? '');
  if (!token) throw new Error(`login failed: ${JSON.stringify(first.json)}`);
  await phase(port, users, token, false); // warm-up: JIT, caches, connections
  const quiet = await phase(port, users, token, false);
  const attacked = await phase(port, users, token, true);

  const bare = await bareVerifyMs();
  const row = (name: string, f: (p: typeof quiet) => string) => console.log(`| ${name} | ${f(quiet)} | ${f(attacked)} |`);
  const logins = (s: LoginStats) =>
    `${ms(quantile(s.latencies, 0.5))} / ${ms(quantile(s.latencies, 0.9))} / ${ms(s.latencies.at(-1) ?? Number.NaN)}; ${s.ok} of ${s.latencies.length} signed in${s.busy ? `, ${s.busy} SERVICE_BUSY` : ''}${s.other ? `, ${s.other} other` : ''}`;
  console.log(
    `\nCredential stuffing — ${SECONDS}s per phase, ${ATTACKERS} attackers, ${VIEWERS} viewer clients, ${availableParallelism()} cores shared by client and server, production argon2 (m=19456 KiB, t=2, p=1), default PASSWORD_HASH_* settings; a bare argon2id verification took ${ms(bare)} (median) in this process just after\n`,
  );
  console.log('| | no attack | during the attack |');
  console.log('| --- | --- | --- |');
  row('real user, known IP: login median / p90 / max', (p) => logins(p.known));
  row('real user, new IP: login median / p90 / max', (p) => logins(p.newcomer));
  row(
    '`viewer` p50 / p99 (requests)',
    (p) =>
      `${p.view.latencies.length ? quantile(p.view.latencies, 0.5).toFixed(1) : '–'} / ${quantile(p.view.latencies, 0.99).toFixed(1)} ms (${p.view.latencies.length}${p.view.errors ? `, ${p.view.errors} failed` : ''})`,
  );
  row(
    'attack: answers (status code)',
    (p) =>
      Object.entries(p.answers)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '–',
  );
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  closeAgent();
  await rm(dataDir, { recursive: true, force: true });
}
