// npm run bench:limits — what the abuse-resistance limits cost an ordinary authenticated query.
// Starts two Gatehouse servers as `npm start` would (dist bundle, embedded PostgreSQL): one with the
// query limits at their defaults and the rate limiter active, one with every switchable limit
// off. Rounds alternate between them (only one is under load at a time, and each pair swaps who
// goes first); the ratio is the median over the pairs, so load from elsewhere on the machine hits
// both sides of a pair alike. What cannot be switched off (the once-per-document rule for sensitive
// mutations, the batching refusal, the security headers) runs in both.
// Options: BENCH_ROUNDS (default 10), BENCH_SECONDS per round (default 1.5), BENCH_CONCURRENCY (default 8).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, specifiedRules, validate } from 'graphql';
import { loadConfig } from '../src/config/config.ts';
import { schema } from '../src/graphql/schema.ts';
import { parseWithTokenLimit, validationRules } from '../src/http/graphql-limits.ts';
import { createMemoryLimiterStore } from '../src/modules/rate-limits/limiter-store.ts';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, spawnServer } from './http.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PASSWORD = 'correct horse battery staple';

const rateLimits = (value: string) =>
  Object.fromEntries(
    RATE_LIMITED_OPERATIONS.flatMap((op) => [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((n) => [n, value])),
  );

// The load comes from one IP, so "on" keeps every limiter counting but with budgets the load
// cannot spend: the cost is measured, not the RATE_LIMITED answers.
const ON = { ...rateLimits('100000000/1m') };
const OFF = {
  ...rateLimits('off'),
  GRAPHQL_MAX_DEPTH: 'off',
  GRAPHQL_MAX_ALIASES: 'off',
  GRAPHQL_MAX_TOKENS: 'off',
  GRAPHQL_MAX_DIRECTIVES: 'off',
  GRAPHQL_MAX_COST: 'off',
};

interface Server {
  port: number;
  child: ChildProcess;
  token: string;
}

async function startServer(dataDir: string, env: Record<string, string>): Promise<Server> {
  const { port, child } = await spawnServer(ROOT, { LOG_LEVEL: 'warn', DATA_DIR: dataDir, ADMIN_PASSWORD: PASSWORD, ...env });
  const email = `bench-${Date.now()}@example.test`;
  await post(port, {
    query: 'mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p }) { id } }',
    variables: { e: email, p: PASSWORD },
  });
  const login = await post(port, {
    query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    variables: { e: email, p: PASSWORD },
  });
  const token = login.json.data?.login?.accessToken;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login.json)}`);
  return { port, child, token: String(token) };
}

/** Runs CONCURRENCY loops of `request` for SECONDS; returns requests/s and the median latency. */
async function round(request: (n: number) => Promise<boolean>): Promise<{ perSecond: number; p50: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const ok = await request(n++).catch(() => false);
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / SECONDS, p50: latencies[Math.floor(latencies.length / 2)] ?? 0, errors };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const SCENARIOS: Record<string, (server: Server) => (n: number) => Promise<boolean>> = {
  // A client repeating its queries: Yoga's parse/validation cache serves the document.
  'viewer query (bearer), same document': (s) => async () =>
    (await post(s.port, { query: '{ viewer { id email status } }' }, { authorization: `Bearer ${s.token}` })).json.data?.viewer != null,
  // Every request a new document text: parse, token count and every validation rule each time.
  'viewer query (bearer), a new document each time': (s) => async (n) =>
    (await post(s.port, { query: `{ viewer { id email status } } # ${n}` }, { authorization: `Bearer ${s.token}` })).json.data?.viewer !=
    null,
  // A rate-limited field: both limiters count (IP and token id) before the token is even parsed.
  'refresh with an unknown token (rate-limited field)': (s) => async () =>
    (
      await post(s.port, {
        query: 'mutation($t: String!) { refresh(refreshToken: $t) { expiresIn } }',
        variables: { t: `00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}` },
      })
    ).json.errors?.[0]?.extensions?.code === 'INVALID_TOKEN',
};

/** Median microseconds per call of `fn`, over batches, in this process (no HTTP, no other load). */
function microseconds(fn: (n: number) => void, calls = 2000, batches = 15): number {
  const perCall: number[] = [];
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) fn(n++);
    perCall.push(((performance.now() - t) * 1000) / calls);
  }
  return median(perCall.slice(3)); // the first batches warm the JIT up
}

/** The per-request work the limits add, measured without the noise of a loaded machine's HTTP. */
async function inProcessCosts() {
  const limits = loadConfig({}).graphqlLimits;
  const ours = [...specifiedRules, ...validationRules(limits)];
  const query = (n: number) => `{ viewer { id email status } } # ${n}`;
  const parseLimited = parseWithTokenLimit(limits.maxTokens ?? 1000);
  const documents = Array.from({ length: 64 }, (_, i) => parse(query(i)));
  const store = createMemoryLimiterStore();
  const ip = store.limiter('bench:ip', 1e9, 60);
  const account = store.limiter('bench:account', 1e9, 60);
  const consumes: number[] = [];
  for (let b = 0; b < 15; b++) {
    const t = performance.now();
    for (let i = 0; i < 2000; i++) {
      await ip.consume(`ip-${i % 50}`);
      await account.consume(`account-${i % 500}`);
    }
    consumes.push(((performance.now() - t) * 1000) / 2000);
  }
  return {
    parse: { on: microseconds((n) => parseLimited(query(n))), off: microseconds((n) => parse(query(n))) },
    validate: {
      on: microseconds((n) => validate(schema, documents[n % 64]!, ours)),
      off: microseconds((n) => validate(schema, documents[n % 64]!, specifiedRules)),
    },
    consume: median(consumes.slice(3)),
  };
}

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // what `npm start` runs
const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-limits-'));
await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL's own account passes through it
const servers: Server[] = [];
try {
  const on = await startServer(path.join(dataDir, 'on'), ON);
  servers.push(on);
  const off = await startServer(path.join(dataDir, 'off'), OFF);
  servers.push(off);
  console.log(
    `\nLimits on vs off — ${ROUNDS} alternating rounds of ${SECONDS}s, ${CONCURRENCY} concurrent clients, client and servers on this machine\n`,
  );
  console.log('| scenario | on: req/s, p50 ms | off: req/s, p50 ms | p50 on/off (median of pairs) | req/s on/off (median of pairs) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    const results = { on: [] as Awaited<ReturnType<typeof round>>[], off: [] as Awaited<ReturnType<typeof round>>[] };
    await round(scenario(on)); // warm-up: JIT, caches, connections
    await round(scenario(off));
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        results.on.push(await round(scenario(on)));
        results.off.push(await round(scenario(off)));
      } else {
        results.off.push(await round(scenario(off)));
        results.on.push(await round(scenario(on)));
      }
    }
    const errors = [...results.on, ...results.off].reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) throw new Error(`${name}: ${errors} requests failed`);
    const p50 = { on: median(results.on.map((r) => r.p50)), off: median(results.off.map((r) => r.p50)) };
    const rps = { on: median(results.on.map((r) => r.perSecond)), off: median(results.off.map((r) => r.perSecond)) };
    const p50Ratio = median(results.on.map((r, i) => r.p50 / (results.off[i]?.p50 ?? Number.NaN)));
    const rpsRatio = median(results.on.map((r, i) => r.perSecond / (results.off[i]?.perSecond ?? Number.NaN)));
    console.log(
      `| ${name} | ${Math.round(rps.on)}, ${p50.on.toFixed(2)} | ${Math.round(rps.off)}, ${p50.off.toFixed(2)} | ${p50Ratio.toFixed(3)} | ${rpsRatio.toFixed(3)} |`,
    );
  }
  const costs = await inProcessCosts();
  const us = (v: number) => `${v.toFixed(1)} µs`;
  console.log('\nThe same work in this process, per request (median of batches):');
  console.log(`- parse with the token limit ${us(costs.parse.on)} vs plain parse ${us(costs.parse.off)}`);
  console.log(
    `- validation with the limit rules ${us(costs.validate.on)} vs the standard rules ${us(costs.validate.off)} (Yoga caches it per document text)`,
  );
  console.log(`- rate limiting a sensitive field (IP and account counters, memory store): ${us(costs.consume)}`);
} finally {
  for (const s of servers) {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }
  closeAgent();
  await rm(dataDir, { recursive: true, force: true });
}
