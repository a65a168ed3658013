import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotp } from '../src/crypto/totp.ts';
import {
  ChangePasswordDocument,
  EnableTwoFactorDocument,
  GenerateTwoFactorSecretDocument,
  LoginDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
} from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { sleep } from './helpers/from-ip.ts';
import type { GraphQLResponse } from './helpers/graphql-client.ts';
import { createIsolatedDatabase, type IsolatedDatabase } from './helpers/isolated-database.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

// A login checks the password, then writes its session. If the credential changes in between
// (a password change, a reset, enabling 2FA), the session must not outlive the change: the
// change ends the sessions that exist, so a session written after it would keep the old
// password's access. These tests hold logins between the two steps and change the credential.

const NEW_PASSWORD = 'a brand new passphrase 42';
const RESET_PAGE = 'https://app.example.com/reset';
const HELD_LOGINS = 3;

type Changer = Awaited<ReturnType<typeof registerAndLogin>>;
interface Change {
  /** Whether the change keeps the changer's own session (a reset ends every session). */
  keepsOwnSession: boolean;
  /** What a login with the old password answers afterwards. */
  oldPasswordAfter: string;
  /** Everything the change needs that must happen before logins are held; returns the change. */
  prepare(app: TestApp, user: Changer): Promise<() => Promise<GraphQLResponse<unknown>>>;
}

const CHANGES: Record<string, Change> = {
  changePassword: {
    keepsOwnSession: true,
    oldPasswordAfter: 'INVALID_CREDENTIALS',
    prepare: async (app, user) => () =>
      app.client.request(
        ChangePasswordDocument,
        { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD },
        { token: user.accessToken },
      ),
  },
  resetPassword: {
    keepsOwnSession: false,
    oldPasswordAfter: 'INVALID_CREDENTIALS',
    prepare: async (app, user) => {
      await app.client.request(RequestPasswordResetDocument, { email: user.email, resetUrl: RESET_PAGE });
      const mail = await app.smtp.waitForMail(user.email);
      const token = new URL(/https?:\/\/\S+/.exec(mail.text ?? '')![0]).searchParams.get('token')!;
      return () => app.client.request(ResetPasswordDocument, { token, password: NEW_PASSWORD });
    },
  },
  enableTwoFactor: {
    keepsOwnSession: true,
    oldPasswordAfter: 'OTP_REQUIRED',
    prepare: async (app, user) => {
      const setup = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
      const { secret } = setup.data!.generateTwoFactorSecret;
      return async () => app.client.request(EnableTwoFactorDocument, { otp: await generateTotp(secret) }, { token: user.accessToken });
    },
  },
};

/** Sessions of the user that still work: every one must have been written after the change. */
async function liveSessionIds(app: TestApp, userId: string): Promise<string[]> {
  const rows = await app.db.session.findMany({ where: { userId, revokedAt: null }, select: { id: true } });
  return rows.map((r) => r.id);
}

const login = (app: TestApp, email: string) => app.client.request(LoginDocument, { email, password: TEST_PASSWORD });

// The test holds the logins with a table lock from a connection of its own (both databases are
// real PostgreSQL servers now; PGlite ran one transaction at a time and could not take this test).
describe('logins held between the password check and the session write', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let watcher: pg.Client;
  beforeAll(async () => {
    database = await createIsolatedDatabase();
    app = await startTestApp({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '10', PASSWORD_RESET_URL_ALLOW_LIST: RESET_PAGE });
    watcher = new pg.Client({ connectionString: database.url });
    await watcher.connect();
  });
  afterAll(async () => {
    await watcher?.end();
    await app?.close();
    await database?.drop();
  });

  /**
   * Backends of the app's database waiting for a lock, seen from a connection of its own: inside
   * a transaction (like the one holding the lock) pg_stat_activity stays as first read.
   */
  async function lockWaiters(): Promise<number> {
    const { rows } = await watcher.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]?.n ?? 0;
  }

  async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (await condition()) return;
      await sleep(25);
    }
    throw new Error('the condition never held');
  }

  it.each(Object.keys(CHANGES))('%s ends the sessions of logins that checked the old credential', async (name) => {
    const change = CHANGES[name] as Change;
    const user = await registerAndLogin(app);
    const ownSession = decodeJwt(user.accessToken).sid as string;
    const run = await change.prepare(app, user);

    // Writing a session writes its first token: a SHARE lock on SessionToken stops each login
    // right there, after its password check, while reads and other writes go on.
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    let logins: Promise<GraphQLResponse<unknown>>[] = [];
    let changed: Promise<GraphQLResponse<unknown>> | null = null;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE "SessionToken" IN SHARE MODE');
      logins = Array.from({ length: HELD_LOGINS }, () => login(app, user.email));
      await until(async () => (await lockWaiters()) >= HELD_LOGINS);

      // The change runs to its end, or waits for the held logins (the fix makes it wait).
      let done = false;
      changed = run().finally(() => {
        done = true;
      });
      await until(async () => done || (await lockWaiters()) > HELD_LOGINS);
    } finally {
      await lock.query('COMMIT').catch(() => {});
      await lock.end();
    }
    expect((await changed)?.errors).toBeUndefined();
    await Promise.all(logins);

    expect(await liveSessionIds(app, user.id)).toEqual(change.keepsOwnSession ? [ownSession] : []);
    expect((await login(app, user.email)).code).toBe(change.oldPasswordAfter);
  });
});

describe('a stream of logins with the old password while the password changes', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Production-strength argon2, so each login spends a real while between check and write.
    app = await startTestApp({ ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', LOGIN_LOCKOUT_THRESHOLD: '1000' });
  });
  afterAll(() => app?.close());

  it('leaves no session whose login checked the old password', async () => {
    const user = await registerAndLogin(app);
    const ownSession = decodeJwt(user.accessToken).sid as string;
    let changed = false;
    let succeeded = 0;
    const worker = async () => {
      // Keep logging in until the change is over, then once more.
      for (let last = false; !last; ) {
        last = changed;
        if (!(await login(app, user.email)).errors) succeeded += 1;
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    for (let i = 0; i < 1000 && succeeded < 8; i++) await sleep(10);
    const change = await CHANGES.changePassword!.prepare(app, user);
    expect((await change()).errors).toBeUndefined();
    changed = true;
    await Promise.all(workers);
    expect(await liveSessionIds(app, user.id)).toEqual([ownSession]);
  });
});
