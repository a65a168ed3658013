// Helpers shared by the benchmark scripts: starting the built server as a child process, a free
// loopback port, and a keep-alive JSON POST to /graphql with less client overhead than fetch, so
// the client steals less CPU from the server.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';

export interface GraphQLJson {
  data?: Record<string, Record<string, unknown> | null> | null;
  errors?: { extensions?: { code?: string } }[];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function post(port: number, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: GraphQLJson }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function closeAgent(): void {
  agent.destroy();
}

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** From spawn to the first healthy answer. */
  startupMs: number;
}

/**
 * Starts the server through scripts/start.sh, as `npm start` does (the build check, the environment
 * defaults and node flags it sets; nodeArgs are added to them), with only the given environment (plus
 * PATH and PORT), and waits for /health. The script execs node, so the child's pid is the server's once
 * it is up. Another process may take the free port before the server binds it: a few attempts.
 */
export async function spawnServer(root: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnServerOnce(root, env, nodeArgs);
    } catch (error) {
      if (attempt === 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function spawnServerOnce(root: string, env: Record<string, string>, nodeArgs: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('sh', ['scripts/start.sh', ...nodeArgs], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${output}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { port, child, startupMs: performance.now() - started };
    await new Promise((r) => setTimeout(r, 25));
  }
}
