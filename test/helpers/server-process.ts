import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from './free-port.ts';
import { RELAXED_RATE_LIMITS } from './rate-limits.ts';
import { ADMIN_EMAIL, TEST_PASSWORD } from './test-app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServerProcessOptions {
  /**
   * Run the built bundle as `npm start` does (`sh scripts/start.sh`: dist/main.mjs, built when a source
   * changed) rather than the TypeScript sources through tsx. Build it beforehand
   * (`node scripts/build.mjs --if-changed`): a build does not count against the start-up deadline then.
   */
  bundle?: boolean;
}

/**
 * Gatehouse as its own process (`src/main.ts`, or the bundle `npm start` runs), on the run's database, so
 * a test can kill it like a crash would and start it again. Ready once /health answers. A PORT in `env`
 * is used (for a server whose origin must be known in advance); otherwise a free one.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  options: ServerProcessOptions = {},
): Promise<ServerProcess & { cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-proc-'));
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: inject('databaseUrl'),
    DATABASE_POOL_SIZE: '4',
    SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ADMIN_EMAIL,
    ADMIN_PASSWORD: TEST_PASSWORD,
    EMAIL_OUTBOX_SCOPE: `test-${randomUUID()}`,
    ...RELAXED_RATE_LIMITS,
    ...env,
  };
  const [command, args] = options.bundle ? ['sh', ['scripts/start.sh']] : [process.execPath, ['--import', 'tsx', 'src/main.ts']];
  const child = spawn(command as string, args as string[], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of a server. `onResponse` runs when the server starts answering a request
 * and decides whether the answer reaches the client: returning false drops it (the client's
 * connection is destroyed), as when a process dies after its database commit.
 */
export async function startProxy(
  target: string,
  onResponse: () => Promise<boolean> | boolean,
): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    let decided: Promise<boolean> | null = null;
    upstream.on('data', async (chunk) => {
      decided ??= Promise.resolve(onResponse());
      if (await decided) client.write(chunk);
      else client.destroy();
    });
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) s.on('error', () => {});
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
