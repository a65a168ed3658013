// npm run bench:register — does `register` take as long for a taken address as for a new one?
// (issue #14: enumeration-safe registration.) Starts Gatehouse as `npm start` would (dist bundle,
// production argon2 parameters, REGISTRATION_VERIFY_EMAIL on, mail written by the default
// file transport after the answer), on the embedded database, or on BENCH_DATABASE_URL when set
// (a PostgreSQL database the run may fill). Then, after a warm-up, BENCH_N pairs of sequential
// calls, interleaved so drift hits both alike: one with a new address (creates an UNVERIFIED user,
// a token and a verification mail), one with a taken address (a notice mail to its owner).
// Reports the median and p90 of each and the ratio of the medians. Limits are lifted for the run.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { operationEnvName, RATE_LIMITED_OPERATIONS } from '../src/modules/rate-limits/sensitive-operations.ts';
import { closeAgent, post, spawnServer } from './http.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const N = Math.max(20, Number(process.env.BENCH_N ?? 40));
const WARMUP = 5;
const PASSWORD = 'correct horse battery staple';
const REGISTER = 'mutation($e: String!, $p: String!) { register(email: $e, password: $p) }';
const NO_LIMITS = Object.fromEntries(
  RATE_LIMITED_OPERATIONS.flatMap((op) => [operationEnvName(op, 'ip'), operationEnvName(op, 'account')].map((n) => [n, 'off'])),
);

const run = Date.now().toString(36);
let counter = 0;
const freshEmail = () => `bench-${run}-${counter++}@example.test`;

async function register(port: number, email: string): Promise<number> {
  const t = performance.now();
  const res = await post(port, { query: REGISTER, variables: { e: email, p: PASSWORD } });
  const elapsed = performance.now() - t;
  if ((res.json.data?.register as unknown) !== true) throw new Error(`register failed: ${JSON.stringify(res.json)}`);
  return elapsed;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // what `npm start` runs
const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-register-'));
const server = await spawnServer(ROOT, {
  LOG_LEVEL: 'error',
  DATA_DIR: dataDir,
  ADMIN_PASSWORD: PASSWORD,
  ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
  ...NO_LIMITS,
});
try {
  const { port } = server;
  // Addresses that will be taken: registered (and so hashed, written, mailed) beforehand.
  const taken = Array.from({ length: N + WARMUP }, freshEmail);
  for (const email of taken) await register(port, email);
  for (let i = 0; i < WARMUP; i++) {
    await register(port, freshEmail());
    await register(port, taken[i] as string);
  }
  const fresh: number[] = [];
  const repeat: number[] = [];
  for (let i = 0; i < N; i++) {
    const takenEmail = taken[WARMUP + i] as string;
    // Alternate which goes first, so neither always follows the other's background mail.
    if (i % 2 === 0) {
      fresh.push(await register(port, freshEmail()));
      repeat.push(await register(port, takenEmail));
    } else {
      repeat.push(await register(port, takenEmail));
      fresh.push(await register(port, freshEmail()));
    }
  }
  const [mNew, mTaken] = [median(fresh), median(repeat)];
  const p90 = (v: number[]) =>
    quantile(
      [...v].sort((a, b) => a - b),
      0.9,
    );
  console.log(
    `\nregister: ${N} calls each, sequential, ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, production argon2, ${availableParallelism()} cores shared by client and server\n`,
  );
  console.log('| address | median | p90 |');
  console.log('| --- | --- | --- |');
  console.log(`| new | ${mNew.toFixed(1)} ms | ${p90(fresh).toFixed(1)} ms |`);
  console.log(`| taken | ${mTaken.toFixed(1)} ms | ${p90(repeat).toFixed(1)} ms |`);
  console.log(`\nratio taken / new (medians): ${(mTaken / mNew).toFixed(2)}`);
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  closeAgent();
  await rm(dataDir, { recursive: true, force: true });
}
