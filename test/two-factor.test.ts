import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/crypto/tokens.ts';
import { generateTotp, TOTP_PERIOD_SECONDS } from '../src/crypto/totp.ts';
import {
  DisableTwoFactorDocument,
  EnableTwoFactorDocument,
  GenerateTwoFactorSecretDocument,
  LoginWithOtpDocument,
  RefreshDocument,
  RegenerateRecoveryCodesDocument,
  ViewerTwoFactorDocument,
} from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ TWO_FACTOR_ISSUER: 'Gatehouse Test' });
});
afterAll(() => app.close());

const now = () => Math.floor(Date.now() / 1000);

/** A user with 2FA enabled through the API; `secret` is what their authenticator app holds. */
async function enrolledUser() {
  const user = await registerAndLogin(app);
  const setup = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
  const { secret } = setup.data!.generateTwoFactorSecret;
  // Enrol with the previous step's code, so the current one is still fresh for the test.
  const enable = await app.client.request(
    EnableTwoFactorDocument,
    { otp: await generateTotp(secret, now() - TOTP_PERIOD_SECONDS) },
    { token: user.accessToken },
  );
  expect(enable.errors).toBeUndefined();
  return { ...user, secret, recoveryCodes: enable.data!.enableTwoFactor };
}

describe('enrolment', () => {
  it('needs the password, returns a secret, an otpauth URI and an SVG QR code, and enables nothing yet', async () => {
    const user = await registerAndLogin(app);
    const wrong = await app.client.request(
      GenerateTwoFactorSecretDocument,
      { password: 'not my password at all' },
      { token: user.accessToken },
    );
    expect(wrong.code).toBe('INVALID_CREDENTIALS');

    const res = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
    const setup = res.data!.generateTwoFactorSecret;
    expect(setup.secret).toMatch(/^[A-Z2-7]{16,}$/);
    const uri = new URL(setup.otpauthUrl);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('issuer')).toBe('Gatehouse Test');
    expect(decodeURIComponent(uri.pathname)).toContain(user.email);
    expect(setup.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(setup.qrCode.split(',')[1]!, 'base64').toString()).toContain('<svg');

    // Stored sealed, never in clear; not enabled until confirmed.
    const row = await app.db.twoFactor.findUnique({ where: { userId: user.id } });
    expect(row?.enabledAt).toBeNull();
    expect(row?.pendingSecret).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(setup.secret);
    const viewer = await app.client.request(ViewerTwoFactorDocument, {}, { token: user.accessToken });
    expect(viewer.data?.viewer?.twoFactorEnabled).toBe(false);
    // Login still needs no code.
    expect((await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('enables with a valid code, returns 10 recovery codes stored only as hashes, ends other sessions and mails the owner', async () => {
    const user = await registerAndLogin(app);
    const other = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD });
    const setup = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
    const { secret } = setup.data!.generateTwoFactorSecret;

    const bad = await app.client.request(EnableTwoFactorDocument, { otp: '000000' }, { token: user.accessToken });
    expect(bad.code).toBe('INVALID_OTP');

    const res = await app.client.request(EnableTwoFactorDocument, { otp: await generateTotp(secret) }, { token: user.accessToken });
    const codes = res.data!.enableTwoFactor;
    expect(codes).toHaveLength(10);
    const rows = await app.db.recoveryCode.findMany({ where: { userId: user.id } });
    expect(rows).toHaveLength(10);
    for (const code of codes) expect(JSON.stringify(rows)).not.toContain(code.replace(/-/g, ''));

    const viewer = await app.client.request(ViewerTwoFactorDocument, {}, { token: user.accessToken });
    expect(viewer.data?.viewer?.twoFactorEnabled).toBe(true);
    expect((await app.client.request(RefreshDocument, { refreshToken: other.data!.login.refreshToken })).code).toBe('INVALID_TOKEN');
    expect((await app.client.request(RefreshDocument, { refreshToken: user.refreshToken })).errors).toBeUndefined();
    const mail = await app.smtp.waitForMail(user.email);
    expect(mail.subject).toBe('Two-factor authentication turned on');
  });
});

describe('re-enrolment', () => {
  it('cannot replace an active secret without disabling first', async () => {
    const user = await enrolledUser();
    const again = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
    expect(again.code).toBe('BAD_USER_INPUT');
    const enable = await app.client.request(EnableTwoFactorDocument, { otp: await generateTotp(user.secret) }, { token: user.accessToken });
    expect(enable.code).toBe('BAD_USER_INPUT');
    expect(await app.db.recoveryCode.count({ where: { userId: user.id, usedAt: null } })).toBe(10);
  });
});

describe('login with two-factor authentication', () => {
  it('asks for the code only after the password, and refuses a wrong one', async () => {
    const user = await enrolledUser();
    const wrongPassword = await app.client.request(LoginWithOtpDocument, { email: user.email, password: 'not the password at all' });
    expect(wrongPassword.code).toBe('INVALID_CREDENTIALS');
    const noCode = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD });
    expect(noCode.code).toBe('OTP_REQUIRED');
    const wrongCode = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: '123456' });
    expect(['INVALID_OTP']).toContain(wrongCode.code);
    const ok = await app.client.request(LoginWithOtpDocument, {
      email: user.email,
      password: TEST_PASSWORD,
      otp: await generateTotp(user.secret),
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.login.accessToken).toBeTruthy();
  });

  it('accepts a code once only, and refuses one from two steps ago', async () => {
    const user = await enrolledUser();
    const code = await generateTotp(user.secret);
    expect(
      (await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: code })).errors,
    ).toBeUndefined();
    const replay = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: code });
    expect(replay.code).toBe('INVALID_OTP');
    const old = await generateTotp(user.secret, now() - 2 * TOTP_PERIOD_SECONDS);
    expect((await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: old })).code).toBe(
      'INVALID_OTP',
    );
  });

  it('accepts each recovery code once', async () => {
    const user = await enrolledUser();
    const [code] = user.recoveryCodes;
    const first = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: code!.toUpperCase() });
    expect(first.errors).toBeUndefined();
    const again = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: code! });
    expect(again.code).toBe('INVALID_OTP');
    const row = await app.db.recoveryCode.findMany({ where: { userId: user.id, usedAt: { not: null } } });
    expect(row).toHaveLength(1);
  });
});

describe('recovery codes at rest', () => {
  /** A recovery code's SHA-256 as it was stored before keyed hashing. */
  const plainHash = (code: string) => sha256(code.replace(/-/g, ''));

  it('are not stored as SHA-256 of the code, are bound to their user, and still sign in', async () => {
    const [user, other] = await Promise.all([enrolledUser(), enrolledUser()]);
    const rows = await app.db.recoveryCode.findMany({ where: { userId: user.id } });
    const plain = user.recoveryCodes.map(plainHash);
    expect(rows.filter((r) => plain.includes(r.codeHash))).toEqual([]);

    // A hash copied onto another account does not make the code work there: no guess can be tested
    // against every account at once.
    await app.db.recoveryCode.deleteMany({ where: { userId: other.id } });
    await app.db.recoveryCode.createMany({ data: rows.map((r) => ({ userId: other.id, codeHash: r.codeHash })) });
    const copied = await app.client.request(LoginWithOtpDocument, {
      email: other.email,
      password: TEST_PASSWORD,
      otp: user.recoveryCodes[0]!,
    });
    expect(copied.code).toBe('INVALID_OTP');

    const ok = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: user.recoveryCodes[2]! });
    expect(ok.errors).toBeUndefined();
  });

  it('stored the old way (plain SHA-256) keep working, and are rehashed at the next start', async () => {
    const user = await enrolledUser();
    const [kept, used] = [user.recoveryCodes[3]!, user.recoveryCodes[4]!];
    await app.db.recoveryCode.deleteMany({ where: { userId: user.id } });
    await app.db.recoveryCode.createMany({ data: [kept, used].map((code) => ({ userId: user.id, codeHash: plainHash(code) })) });

    // A row an older instance wrote works on a running one.
    const first = await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: used });
    expect(first.errors).toBeUndefined();

    // A server starting on the database rehashes the rows still in the old form.
    const restarted = await startTestApp();
    try {
      const stored = await restarted.db.recoveryCode.findMany({ where: { userId: user.id, usedAt: null } });
      expect(stored).toHaveLength(1);
      expect(stored[0]!.codeHash).not.toBe(plainHash(kept));
      const res = await restarted.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: kept });
      expect(res.errors).toBeUndefined();
    } finally {
      await restarted.close();
    }
  });
});

describe('managing two-factor authentication', () => {
  it('regenerates recovery codes: the old ones stop working', async () => {
    const user = await enrolledUser();
    const res = await app.client.request(
      RegenerateRecoveryCodesDocument,
      { otp: await generateTotp(user.secret) },
      { token: user.accessToken },
    );
    const fresh = res.data!.regenerateRecoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(user.recoveryCodes[0]);
    expect(
      (await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: user.recoveryCodes[0]! })).code,
    ).toBe('INVALID_OTP');
    expect(
      (await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: fresh[0]! })).errors,
    ).toBeUndefined();
  });

  it('disables with a recovery code; login needs no code afterwards', async () => {
    const user = await enrolledUser();
    const wrong = await app.client.request(DisableTwoFactorDocument, { otp: '000000' }, { token: user.accessToken });
    expect(wrong.code).toBe('INVALID_OTP');
    const res = await app.client.request(DisableTwoFactorDocument, { otp: user.recoveryCodes[1]! }, { token: user.accessToken });
    expect(res.data?.disableTwoFactor).toBe(true);
    expect(await app.db.twoFactor.count({ where: { userId: user.id } })).toBe(0);
    expect(await app.db.recoveryCode.count({ where: { userId: user.id } })).toBe(0);
    expect((await app.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it('refuses enrolment from anonymous callers', async () => {
    const res = await app.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD });
    expect(res.code).toBe('UNAUTHENTICATED');
  });
});

describe('a policy that enforces two-factor authentication', () => {
  it('lets a user without 2FA sign in and enrol, and refuses everything else with TWO_FACTOR_ENROLMENT_REQUIRED', async () => {
    const policy = await app.db.policy.create({ data: { name: `Enforced ${Date.now()}`, enforceTwoFactor: true } });
    const user = await registerAndLogin(app);
    await app.db.userPolicy.create({ data: { userId: user.id, policyId: policy.id } });
    // A fresh instance loads the new policy at once (a running one picks it up within seconds).
    const enforced = await startTestApp();
    try {
      const login = await enforced.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD });
      const token = login.data!.login.accessToken!;
      const viewer = await enforced.client.request(ViewerTwoFactorDocument, {}, { token });
      expect(viewer.data?.viewer).toEqual({ id: user.id, twoFactorEnabled: false });
      const sessions = await enforced.client.raw({ query: '{ viewer { sessions { id } } }' }, { token });
      expect(sessions.code).toBe('TWO_FACTOR_ENROLMENT_REQUIRED');

      const setup = await enforced.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token });
      const { secret } = setup.data!.generateTwoFactorSecret;
      const enable = await enforced.client.request(EnableTwoFactorDocument, { otp: await generateTotp(secret) }, { token });
      expect(enable.data?.enableTwoFactor).toHaveLength(10);
      const after = await enforced.client.raw({ query: '{ viewer { sessions { id } } }' }, { token });
      expect(after.errors).toBeUndefined();
    } finally {
      await enforced.close();
    }
  });
});

describe('throttling of codes', () => {
  it('counts wrong codes at login toward the account lockout, like wrong passwords', async () => {
    const strict = await startTestApp({ LOGIN_LOCKOUT_THRESHOLD: '2', LOGIN_LOCKOUT_BASE: '30s', LOGIN_LOCKOUT_MAX: '30s' });
    try {
      const user = await registerAndLogin(strict);
      const setup = await strict.client.request(GenerateTwoFactorSecretDocument, { password: TEST_PASSWORD }, { token: user.accessToken });
      const { secret } = setup.data!.generateTwoFactorSecret;
      await strict.client.request(EnableTwoFactorDocument, { otp: await generateTotp(secret) }, { token: user.accessToken });
      for (let i = 0; i < 2; i++) {
        const wrong = await strict.client.request(LoginWithOtpDocument, { email: user.email, password: TEST_PASSWORD, otp: '000000' });
        expect(wrong.code).toBe('INVALID_OTP');
      }
      const locked = await strict.client.request(LoginWithOtpDocument, {
        email: user.email,
        password: TEST_PASSWORD,
        otp: await generateTotp(secret, now() + TOTP_PERIOD_SECONDS),
      });
      expect(locked.code).toBe('RATE_LIMITED');
      expect(locked.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    } finally {
      await strict.close();
    }
  });
});
