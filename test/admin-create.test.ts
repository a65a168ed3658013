import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../src/db/client.ts';
import { createAdministrator } from '../src/modules/users/admin-create.ts';
import { LoginDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// `npm run admin:create` as an operator runs it: the real script in a child process, on the database
// a real server uses (the run's), whose login then tells whether the new account is an administrator.
const ROOT = path.resolve(import.meta.dirname, '..');

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function adminCreate(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    LOG_LEVEL: 'silent',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin-create.ts', ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => {}); // the script may exit without reading its input
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function findUser(email: string) {
  return app.db.user.findUnique({ where: { email }, include: { policies: { include: { policy: true } } } });
}

async function loginPolicies(email: string, password: string): Promise<unknown> {
  const res = await app.client.request(LoginDocument, { email, password, mode: 'JSON' });
  expect(res.errors).toBeUndefined();
  return decodeJwt(res.data!.login.accessToken!).policies;
}

// Each test starts a tsx process that loads the whole service: on a busy 2-core machine six of
// them at once take far longer than the default 20 s.
describe.concurrent('npm run admin:create', { timeout: 90_000 }, () => {
  it('creates an ACTIVE administrator with a generated password, printed once, that logs in', async () => {
    const email = uniqueEmail('admin');
    const run = await adminCreate(['--email', email.toUpperCase()]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const password = /Password \(shown once\): (\S+)/.exec(run.stdout)?.[1];
    expect(password).toMatch(/^[\w-]{24,}$/); // >= 18 random bytes, base64url
    expect(run.stdout).toContain('change it');

    const user = await findUser(email);
    expect(user).toMatchObject({ email, status: 'ACTIVE' });
    expect(user!.policies.map((p) => p.policy.name)).toEqual(['Administrator']);
    expect(user!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/); // the configured parameters
    expect(await loginPolicies(email, password!)).toEqual(['Administrator']);
  });

  it('--password-stdin takes the first line of standard input and prints no password', async () => {
    const email = uniqueEmail('admin');
    const password = 'a passphrase read from a pipe';
    const run = await adminCreate(['--password-stdin', `--email=${email}`], { stdin: `${password}\nnot part of it\n` });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).not.toContain('shown once');
    expect(run.stdout).not.toContain(password);
    expect(await loginPolicies(email, password)).toEqual(['Administrator']);
  });

  it('refuses an email that already has an account, with exit code 1, and leaves the account as it was', async () => {
    const existing = await registerUser(app);
    const before = await findUser(existing.email);
    const run = await adminCreate(['--email', existing.email]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists.*left unchanged.*never promotes an existing one/);
    expect(run.stdout).toBe('');
    expect(await findUser(existing.email)).toEqual(before);
    expect(await loginPolicies(existing.email, TEST_PASSWORD)).toEqual(['User']);
  });

  it('refuses a password given as an argument, before touching the database', async () => {
    const email = uniqueEmail('admin');
    const run = await adminCreate(['--email', email, '--password', 'a password for the shell history']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--password is not accepted');
    expect(run.stderr).toContain('--password-stdin');
    expect(run.stdout).toBe('');
    expect(await findUser(email)).toBeNull();
  });

  it('prints the usage and exits with 1 for an unknown argument', async () => {
    const run = await adminCreate(['--email', uniqueEmail('admin'), '--promote']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown argument: --promote');
    expect(run.stderr).toContain('Usage: npm run admin:create -- --email <email> [--password-stdin]');
  });

  it('without DATABASE_URL, refuses a DATA_DIR that holds no embedded database, and creates none', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-admin-'));
    try {
      const run = await adminCreate(['--email', uniqueEmail('admin')], { env: { DATABASE_URL: '', DATA_DIR: dataDir } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`No embedded database in ${path.join(dataDir, 'postgres')}`);
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

// The rules behind the script, on the client directly: those that rename or disable the admin
// policies run in a transaction that is rolled back, so parallel test files never see the change.
describe('createAdministrator', () => {
  class Rollback extends Error {}
  async function rolledBack(work: (tx: Pick<Database, 'policy' | 'user'>) => Promise<void>): Promise<void> {
    const done = app.db.$transaction(
      async (tx) => {
        await work(tx);
        throw new Rollback();
      },
      { maxWait: 10_000, timeout: 10_000 },
    );
    await expect(done).rejects.toBeInstanceOf(Rollback);
  }

  it('validates the email and the password length like the API does, before writing anything', async () => {
    const email = uniqueEmail('admin');
    await expect(
      createAdministrator(app.db, app.config, app.services.passwordHasher, { email: 'not-an-email', password: TEST_PASSWORD }),
    ).rejects.toThrow('email: must be a valid email address');
    await expect(createAdministrator(app.db, app.config, app.services.passwordHasher, { email, password: 'too short' })).rejects.toThrow(
      'password: must be at least 12 characters',
    );
    expect(await findUser(email)).toBeNull();
  });

  it('grants the oldest policy with adminAccess when none is named Administrator', async () => {
    await rolledBack(async (tx) => {
      await tx.policy.update({ where: { name: 'Administrator' }, data: { name: 'Root' } });
      await tx.policy.create({ data: { name: `Newer admins ${crypto.randomUUID()}`, adminAccess: true } });
      const created = await createAdministrator(tx, app.config, app.services.passwordHasher, {
        email: uniqueEmail('admin'),
        password: TEST_PASSWORD,
      });
      expect(created.policy).toBe('Root');
      const grants = await tx.user.findUniqueOrThrow({ where: { id: created.id }, select: { policies: { select: { policy: true } } } });
      expect(grants.policies.map((p) => p.policy.name)).toEqual(['Root']);
    });
  });

  it('fails, creating nothing, when no policy has adminAccess (a policy named Administrator without it does not count)', async () => {
    const email = uniqueEmail('admin');
    await rolledBack(async (tx) => {
      await tx.policy.updateMany({ data: { adminAccess: false } });
      await expect(createAdministrator(tx, app.config, app.services.passwordHasher, { email, password: TEST_PASSWORD })).rejects.toThrow(
        'No policy has adminAccess',
      );
      expect(await tx.user.findUnique({ where: { email } })).toBeNull();
    });
  });
});
