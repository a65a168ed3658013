import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.ts';

// The newcomer's path: `npm start` with no configuration at all, on the embedded database.
const ROOT = path.resolve(import.meta.dirname, '..');

interface Started {
  child: ChildProcess;
  output: () => string;
}

const LOGIN_JSON = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p, mode: JSON) { refreshToken } }';

/** `asUid`: run as that account (the test runs as root), as a normal user would; setpriv execs, so the child is the server. */
function spawnServer(dataDir: string, port: number, asUid?: number): ChildProcess {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port) };
  // What `npm start` runs (npm itself would stand between the signal and the server); the script execs node.
  const [command, args] = asUid
    ? ['setpriv', [`--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', '--', 'sh', 'scripts/start.sh']]
    : ['sh', ['scripts/start.sh']];
  return spawn(command as string, args as string[], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function start(dataDir: string, port: number, asUid?: number): Promise<Started> {
  const child = spawnServer(dataDir, port, asUid);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!output.includes('Gatehouse is listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

async function stop(started: Started, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return started.child.exitCode;
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill(signal);
  return exited;
}

/** The pid of the PostgreSQL server running on dataDir, from its lock file (null when none runs). */
async function postmasterPid(dataDir: string): Promise<number | null> {
  const text = await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => null);
  const pid = Number(text?.split('\n')[0]);
  if (!pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function gql(port: number, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
}

/** `npm run admin:create` as an operator runs it, on the same DATA_DIR as a running server. */
function adminCreate(dataDir: string, email: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin-create.ts', '--email', email], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function login(port: number, email: string, password: string) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { email } } }',
      variables: { e: email, p: password },
    }),
  });
  return (await res.json()) as { data?: { login: { user: { email: string } } }; errors?: unknown[] };
}

describe('npm start on a fresh data directory', () => {
  let dataDir: string;
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-changed'], { cwd: ROOT });
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-start-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('starts its own PostgreSQL, prints a first admin password once, serves GraphiQL, refuses a second server, lets the CLIs in, keeps data across restarts', async () => {
    const port = await freePort();
    const first = await start(dataDir, port);
    const password = /Password \(shown once\): (\S+)/.exec(first.output())?.[1];
    expect(password).toBeTruthy();
    await writeFile(path.join(dataDir, 'first-admin-password'), password!); // for the next test
    expect((await login(port, 'admin@example.com', password!)).data?.login.user.email).toBe('admin@example.com');

    const graphiql = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    const page = await graphiql.text();
    expect(page).toContain('GraphiQL');
    // The bundle serves GraphiQL's assets from dist/graphiql/ (their package is a development dependency).
    const script = /src="(\/graphiql\/[0-9a-f]+\/graphiql\.js)"/.exec(page)?.[1];
    const asset = await fetch(`http://127.0.0.1:${port}${script}`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(1_000_000);

    expect((await stat(path.join(dataDir, 'secret.key'))).mode & 0o077).toBe(0);
    expect(await readdir(path.join(dataDir, 'postgres'))).toContain('PG_VERSION');
    const postgres = await postmasterPid(dataDir);
    expect(postgres).not.toBeNull();

    // A second server on the same DATA_DIR stops at once, saying why; the first is untouched.
    const second = spawnServer(dataDir, await freePort());
    let secondOutput = '';
    second.stderr?.on('data', (chunk) => (secondOutput += chunk));
    const secondCode = await new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
    expect(secondCode).toBe(1);
    expect(secondOutput).toMatch(
      /Gatehouse failed to start: DATA_DIR .* is in use: its embedded PostgreSQL \(pid \d+\) was started by process \d+/,
    );
    expect(await postmasterPid(dataDir)).toBe(postgres);

    // The CLIs connect to the running server instead of refusing.
    const created = await adminCreate(dataDir, 'second-admin@example.com');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const secondPassword = /Password \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    expect((await login(port, 'second-admin@example.com', secondPassword!)).data?.login.user.email).toBe('second-admin@example.com');
    expect(await postmasterPid(dataDir)).toBe(postgres);

    expect(await stop(first)).toBe(0);
    expect(await waitUntilGone(postgres!)).toBe(true);

    const again = await start(dataDir, port);
    try {
      expect(again.output()).not.toContain('shown once');
      expect((await login(port, 'admin@example.com', password!)).data?.login.user.email).toBe('admin@example.com');
      expect((await login(port, 'second-admin@example.com', secondPassword!)).data?.login.user.email).toBe('second-admin@example.com');
    } finally {
      expect(await stop(again)).toBe(0);
    }
  }, 600_000);

  it('after a SIGKILL of Gatehouse, the next start leaves no PostgreSQL of the old one running and has every acknowledged row', async () => {
    const port = await freePort();
    const first = await start(dataDir, port);
    // The first admin (from the earlier test) signs in: the server acknowledges a new session row.
    const password = (await readFile(path.join(dataDir, 'first-admin-password'), 'utf8')).trim();
    const signedIn = await gql(port, LOGIN_JSON, { e: 'admin@example.com', p: password });
    const refreshToken = (signedIn.data?.login as { refreshToken: string } | undefined)?.refreshToken;
    expect(refreshToken).toBeTruthy();
    const old = await postmasterPid(dataDir);
    expect(old).not.toBeNull();
    expect(await stop(first, 'SIGKILL')).toBeNull();

    const next = await start(dataDir, port);
    try {
      expect(await waitUntilGone(old!)).toBe(true);
      const current = await postmasterPid(dataDir);
      expect(current).not.toBeNull();
      expect(current).not.toBe(old);
      // That session survived: its refresh token still works (rotates) on the new server.
      const refreshed = await gql(port, 'mutation($t: String) { refresh(refreshToken: $t, mode: JSON) { refreshToken } }', {
        t: refreshToken,
      });
      expect(refreshed.errors).toBeUndefined();
      expect((refreshed.data?.refresh as { refreshToken: string } | undefined)?.refreshToken).toBeTruthy();
    } finally {
      expect(await stop(next)).toBe(0);
    }
  }, 600_000);
});

// A normal (non-root) user: PostgreSQL runs as that user, no system account is involved.
describe.runIf(process.getuid?.() === 0)('npm start as a normal user', () => {
  let dataDir: string;
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-changed'], { cwd: ROOT });
    const parent = await mkdtemp(path.join(tmpdir(), 'gatehouse-user-'));
    await chmod(parent, 0o755);
    dataDir = path.join(parent, 'data');
    await rm(dataDir, { force: true, recursive: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dataDir, { mode: 0o700 });
    await chown(dataDir, 65534, 65534); // nobody
  });
  afterAll(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

  it('starts its own PostgreSQL as that user, in a DATA_DIR that stays 0700', async () => {
    const port = await freePort();
    const started = await start(dataDir, port, 65534); // nobody
    try {
      const password = /Password \(shown once\): (\S+)/.exec(started.output())?.[1];
      expect((await login(port, 'admin@example.com', password!)).data?.login.user.email).toBe('admin@example.com');
      const pid = await postmasterPid(dataDir);
      expect((await stat(`/proc/${pid}`)).uid).toBe(65534);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(dataDir, 'postgres'))).uid).toBe(65534);
    } finally {
      expect(await stop(started)).toBe(0);
    }
  }, 600_000);
});
