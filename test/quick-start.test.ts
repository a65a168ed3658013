import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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

async function start(dataDir: string, port: number): Promise<Started> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port) };
  // What `npm start` runs after building (npm itself would stand between the signal and the server).
  const child = spawn(process.execPath, ['dist/main.mjs'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

async function stop(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  return new Promise((resolve) => started.child.once('exit', (code) => resolve(code)));
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
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-start-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('migrates the embedded database, prints a first admin password once, serves GraphiQL, and keeps data across restarts', async () => {
    const port = await freePort();
    const first = await start(dataDir, port);
    const password = /Password \(shown once\): (\S+)/.exec(first.output())?.[1];
    expect(password).toBeTruthy();
    expect((await login(port, 'admin@example.com', password!)).data?.login.user.email).toBe('admin@example.com');

    const graphiql = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('GraphiQL');

    expect((await stat(path.join(dataDir, 'secret.key'))).mode & 0o077).toBe(0);
    expect(await readdir(path.join(dataDir, 'pglite'))).not.toHaveLength(0);
    expect(await stop(first)).toBe(0);

    const second = await start(dataDir, port);
    try {
      expect(second.output()).not.toContain('shown once');
      expect((await login(port, 'admin@example.com', password!)).data?.login.user.email).toBe('admin@example.com');
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 400_000);
});
