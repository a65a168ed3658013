import { randomUUID } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../src/db/client.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';
import { ADMIN_EMAIL } from './helpers/test-app.ts';

// Graceful shutdown of a real server process (src/main.ts) on SIGTERM.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const IN_FLIGHT = 30;

const servers: (ServerProcess & { cleanup(): Promise<void> })[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const server of servers.splice(0)) await server.cleanup();
});

async function start(env: Record<string, string>) {
  const server = await startServerProcess({ LOG_LEVEL: 'info', ...env });
  servers.push(server);
  return server;
}

async function waitForOutput(server: ServerProcess, text: string): Promise<void> {
  for (let i = 0; i < 300 && !server.output().includes(text); i++) await sleep(50);
  expect(server.output()).toContain(text);
}

/** Exit code, or 'still running' if the process outlives `bound` (far beyond any timeout set). */
async function exitWithin(server: ServerProcess, bound: number): Promise<number | null | 'still running'> {
  return Promise.race([
    new Promise<number | null>((resolve) =>
      server.child.exitCode !== null ? resolve(server.child.exitCode) : server.child.once('exit', (code) => resolve(code)),
    ),
    sleep(bound).then(() => 'still running' as const),
  ]);
}

/** True once nothing accepts connections on the server's port. */
async function listenerClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  for (let i = 0; i < 300; i++) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return true;
    await sleep(50);
  }
  return false;
}

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function get(url: string, agent: Agent | false): Promise<Answer & { socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) =>
      collect(res).then((answer) => resolve({ ...answer, socket: req.socket as Socket }), reject),
    );
    req.once('error', reject);
    req.end();
  });
}

function collect(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    res.once('error', reject);
  });
}

describe('graceful shutdown', () => {
  it(`answers ${IN_FLIGHT} in-flight requests on kept-alive connections with Connection: close, fails readiness first, and exits`, async () => {
    const server = await start({ SHUTDOWN_TIMEOUT: '60s', SHUTDOWN_DRAIN_DELAY: '2s' });
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    closers.push(() => agent.destroy());

    // Open IN_FLIGHT connections and keep them alive.
    const warm = await Promise.all(Array.from({ length: IN_FLIGHT }, () => get(`${server.url}/livez`, agent)));
    expect(new Set(warm.map((w) => w.socket)).size).toBe(IN_FLIGHT);
    expect(warm.every((w) => w.status === 200 && w.connection === 'keep-alive')).toBe(true);

    // A request on each: headers sent (the server confirms with 100 Continue), body still to come.
    const body = JSON.stringify({ query: '{ __typename }' });
    const errors: Error[] = [];
    const pending = Array.from({ length: IN_FLIGHT }, () => {
      const req = request(`${server.url}/graphql`, {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
      });
      const answer = new Promise<Answer>((resolve) => req.once('response', (res) => resolve(collect(res))));
      const continued = new Promise<void>((resolve) => req.once('continue', resolve));
      req.on('error', (error) => errors.push(error));
      req.flushHeaders();
      return { req, answer, continued };
    });
    await Promise.all(pending.map((p) => p.continued));
    expect(pending.every((p) => p.req.reusedSocket)).toBe(true);

    server.child.kill('SIGTERM');
    await waitForOutput(server, 'shutting down');

    // Readiness is false from the signal on, while the listener still accepts (the drain delay).
    const ready = await get(`${server.url}/readyz`, false);
    expect(ready).toMatchObject({ status: 503, connection: 'close' });
    expect(JSON.parse(ready.body)).toEqual({ status: 'unavailable', reason: 'shutting down' });

    // The listener closes; the requests it had already received are still answered, each closing
    // its kept-alive connection, and none is reset.
    expect(await listenerClosed(server.url)).toBe(true);
    for (const p of pending) p.req.end(body);
    const answers = await Promise.all(pending.map((p) => p.answer));
    expect(errors).toEqual([]);
    expect(answers.map((a) => [a.status, a.connection, a.body])).toEqual(
      Array.from({ length: IN_FLIGHT }, () => [200, 'close', JSON.stringify({ data: { __typename: 'Query' } })]),
    );
    expect(await exitWithin(server, 30_000)).toBe(0);
  }, 120_000);

  describe('with an SMTP server that accepts connections and never answers', () => {
    async function silentSmtp(): Promise<{ url: string; connected: Promise<void> }> {
      const sockets = new Set<Socket>();
      let onConnection: () => void = () => {};
      const connected = new Promise<void>((resolve) => (onConnection = resolve));
      const smtp: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        onConnection();
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy();
            smtp.close(() => resolve());
          }),
      );
      return { url: `smtp://127.0.0.1:${(smtp.address() as { port: number }).port}`, connected };
    }

    async function requestReset(url: string) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($email: String!) { requestPasswordReset(email: $email) }',
          variables: { email: ADMIN_EMAIL },
        }),
      });
      return response.json();
    }

    it('a mail in flight does not hold shutdown: it stays in the outbox for the next start', async () => {
      const smtp = await silentSmtp();
      const scope = `shutdown-${randomUUID()}`;
      const server = await start({
        EMAIL_SMTP_URL: smtp.url,
        EMAIL_SMTP_TIMEOUT: '10m',
        SHUTDOWN_TIMEOUT: '4s',
        EMAIL_OUTBOX_SCOPE: scope,
      });
      expect(await requestReset(server.url)).toEqual({ data: { requestPasswordReset: true } });
      await smtp.connected; // the mail is being sent, and will get no answer

      server.child.kill('SIGTERM');
      expect(await exitWithin(server, 30_000)).toBe(0);
      expect(server.output()).not.toContain('shutdown did not finish within SHUTDOWN_TIMEOUT');
      const db = createDatabase(inject('databaseUrl'), 1);
      try {
        expect(await db.mailOutbox.findMany({ where: { scope }, select: { status: true, sentAt: true } })).toEqual([
          { status: 'PENDING', sentAt: null },
        ]);
      } finally {
        await db.$disconnect();
      }
    }, 120_000);

    it('EMAIL_SMTP_TIMEOUT gives up on the mail, and shutdown then completes', async () => {
      const smtp = await silentSmtp();
      const server = await start({ EMAIL_SMTP_URL: smtp.url, EMAIL_SMTP_TIMEOUT: '1s', SHUTDOWN_TIMEOUT: '60s' });
      expect(await requestReset(server.url)).toEqual({ data: { requestPasswordReset: true } });
      await smtp.connected;

      server.child.kill('SIGTERM');
      expect(await exitWithin(server, 30_000)).toBe(0);
      expect(server.output()).toContain('mail send failed; will retry');
    }, 120_000);
  });
});
