import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RefreshDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { startServerProcess } from './helpers/server-process.ts';
import { ADMIN_EMAIL, startTestApp, type TestApp } from './helpers/test-app.ts';

// The operator scripts as an operator runs them (`npm run users:list` etc.): real child processes on the
// database a real server uses, whose API then shows the effect.
const ROOT = path.resolve(import.meta.dirname, '..');
const SECRET = 'test-secret-test-secret-test-secret-0123456789';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ REVOCATION_POLL_INTERVAL: '1s' });
});
afterAll(() => app?.close());

function run(
  script: string,
  args: string[],
  envOverrides: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    SECRET,
    LOG_LEVEL: 'silent',
    ...envOverrides,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The server refuses the token once its revocation view has polled the change (REVOCATION_POLL_INTERVAL). */
async function viewerCodeEventually(token: string, expected: string): Promise<string | undefined> {
  let code: string | undefined;
  for (let i = 0; i < 100; i++) {
    code = (await app.client.request(ViewerDocument, {}, { token })).code;
    if (code === expected) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return code;
}

// One at a time: each script holds a database connection, and the embedded database serves only a few at once.
describe('operator scripts', { timeout: 120_000 }, () => {
  it('users:list lists matching accounts with status and 2FA', async () => {
    const user = await registerAndLogin(app);
    const res = await run('users-list', ['--email', user.email]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`${user.id}\\s+${user.email.replace(/[.]/g, '\\.')}\\s+ACTIVE\\s+-`));
    expect(res.stdout).toContain('1 user(s)');
    const bad = await run('users-list', ['--status', 'SLEEPING']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Usage: npm run users:list');
  });

  it('users:suspend suspends the account, ends its sessions (tokens refused) and records it', async () => {
    const user = await registerAndLogin(app);
    const res = await run('users-suspend', ['--email', user.email.toUpperCase()]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Suspended ${user.email}`);
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).status).toBe('SUSPENDED');
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).code).toBe('INVALID_TOKEN');
    expect(await viewerCodeEventually(user.accessToken, 'INVALID_TOKEN')).toBe('INVALID_TOKEN');
    const [event] = await app.db.authEvent.findMany({ where: { userId: user.id, type: 'user.status_changed' } });
    expect(event).toMatchObject({ actorId: null, details: { status: 'SUSPENDED', via: 'cli', was: 'ACTIVE' } });

    const unknown = await run('users-suspend', ['--email', 'nobody-at-all@example.test']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account with the email nobody-at-all@example.test');
    const missing = await run('users-suspend', []);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--email is required');
  });

  it('sessions:revoke ends every session of the account, which stays active, and records it', async () => {
    const user = await registerAndLogin(app);
    const res = await run('sessions-revoke', ['--email', user.email]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Ended 1 session(s) of ${user.email}`);
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).code).toBe('INVALID_TOKEN');
    expect(await viewerCodeEventually(user.accessToken, 'INVALID_TOKEN')).toBe('INVALID_TOKEN');
    expect((await app.db.user.findUniqueOrThrow({ where: { id: user.id } })).status).toBe('ACTIVE');
    const [event] = await app.db.authEvent.findMany({ where: { userId: user.id, type: 'session.revoked' } });
    expect(event).toMatchObject({ details: { by: 'operator', via: 'cli', sessionsEnded: 1 } });
  });

  it('audit:tail prints an account’s newest events as JSON lines, oldest first', async () => {
    const user = await registerAndLogin(app);
    await app.services.auditLog.flush();
    const res = await run('audit-tail', ['--email', user.email, '--limit', '5']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const events = res.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; userId: string });
    expect(events.map((e) => e.type)).toEqual(['user.registered', 'login.succeeded']);
    expect(events.every((e) => e.userId === user.id)).toBe(true);
    const typed = await run('audit-tail', ['--type', 'login.succeeded', '--limit', '1']);
    expect(JSON.parse(typed.stdout.trim()).type).toBe('login.succeeded');
    const bad = await run('audit-tail', ['--type', 'login.maybe']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--type must be one of');
  });
  it('with the embedded database (no DATABASE_URL), works on the DATA_DIR of the running server', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-cli-'));
    const server = await startServerProcess({ DATABASE_URL: '', DATA_DIR: dataDir });
    try {
      const res = await run('users-list', ['--email', ADMIN_EMAIL], { DATABASE_URL: '', DATA_DIR: dataDir });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(ADMIN_EMAIL);
      expect(res.stdout).toContain('1 user(s)');
      // The server it read from is still serving.
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
