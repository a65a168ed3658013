import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangePasswordDocument, LoginDocument, RegisterDocument, UpdateUserDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// One password however it was typed: a keyboard or OS may send "é" as one code point (NFC) or as
// "e" and a combining accent (NFD). Passwords are hashed and checked in their NFKC form.

const NFC = 'Crème brûlée à la française';
const NFD = NFC.normalize('NFD');

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const login = (email: string, password: string) => app.client.request(LoginDocument, { email, password });

/** A registered user whose stored hash is one of `password` made with these argon2id parameters. */
async function userWithHash(password: string, params: { memoryCost: number; timeCost: number }) {
  const user = await registerUser(app);
  const hash = await argon2.hash(password, { type: argon2.argon2id, parallelism: 1, ...params });
  await app.db.user.update({ where: { id: user.id }, data: { passwordHash: hash } });
  return { user, hash };
}

/** The user's stored hash once background work (a rehash runs beside a login's answer) is done. */
async function settledHash(userId: string): Promise<string | null> {
  await app.services.background.drain();
  const { passwordHash } = await app.db.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true } });
  return passwordHash;
}

describe('password normalisation', () => {
  it('accepts the NFD form of a password registered in NFC, and the other way round', async () => {
    expect(NFD).not.toBe(NFC);
    const composed = await registerUser(app, uniqueEmail(), NFC);
    expect((await login(composed.email, NFD)).errors).toBeUndefined();
    const decomposed = await registerUser(app, uniqueEmail(), NFD);
    expect((await login(decomposed.email, NFC)).errors).toBeUndefined();
    expect((await login(decomposed.email, 'Creme brulee a la francaise')).code).toBe('INVALID_CREDENTIALS');
  });

  it('normalises compatibility forms too (full-width letters, ligatures)', async () => {
    const user = await registerUser(app, uniqueEmail(), 'ｆｕｌｌ ｗｉｄｔｈ ﬁne passphrase');
    expect((await login(user.email, 'full width fine passphrase')).errors).toBeUndefined();
  });

  it('lets a password hashed before normalisation sign in once as typed, then rehashes it in NFKC', async () => {
    // The row as an earlier release wrote it: the argon2 hash of the raw (here NFD) string.
    const { user, hash: legacy } = await userWithHash(NFD, { memoryCost: 1024, timeCost: 1 });

    expect((await login(user.email, NFD)).errors).toBeUndefined();
    // Rehashed beside the answer, not before it.
    const passwordHash = await settledHash(user.id);
    expect(passwordHash).not.toBe(legacy);
    expect(await argon2.verify(passwordHash as string, NFC.normalize('NFKC'))).toBe(true);
    // Now either form works.
    expect((await login(user.email, NFC)).errors).toBeUndefined();
    expect((await login(user.email, NFD)).errors).toBeUndefined();
  });

  it('rehashes a password hashed with weaker argon2 parameters than ARGON2_* name, at its next login', async () => {
    // A hash made before ARGON2_MEMORY_KIB was raised (this app runs with 1024 KiB, 1 pass).
    const { user, hash: older } = await userWithHash(TEST_PASSWORD, { memoryCost: 512, timeCost: 1 });

    expect((await login(user.email, TEST_PASSWORD)).errors).toBeUndefined();
    const passwordHash = await settledHash(user.id);
    expect(passwordHash).not.toBe(older);
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await argon2.verify(passwordHash as string, TEST_PASSWORD)).toBe(true);
    // Upgraded once: the next login finds nothing to redo.
    expect((await login(user.email, TEST_PASSWORD)).errors).toBeUndefined();
    expect(await settledHash(user.id)).toBe(passwordHash);
  });

  it('leaves a hash stronger than ARGON2_* name as it is', async () => {
    const { user, hash: stronger } = await userWithHash(TEST_PASSWORD, { memoryCost: 2048, timeCost: 2 });

    expect((await login(user.email, TEST_PASSWORD)).errors).toBeUndefined();
    expect(await settledHash(user.id)).toBe(stronger);
  });

  it('counts length limits on the normalised form', async () => {
    // U+FDFA is one character that NFKC expands to 18: 8 of them are 144 characters, over 128.
    const res = await app.client.request(RegisterDocument, { input: { email: uniqueEmail(), password: '\uFDFA'.repeat(8) } });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe('password: must be at most 128 characters');
  });
});

describe('a password of whitespace only', () => {
  const blanks = [' '.repeat(16), '\t \u00a0'.repeat(6), '\u3000'.repeat(12), `${' '.repeat(10)}\u200b\u200b\u200b`];

  it.each(blanks.map((b) => [JSON.stringify(b), b]))('is refused at registration: %s', async (_label, password) => {
    const res = await app.client.request(RegisterDocument, { input: { email: uniqueEmail(), password } });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('password');
    expect(res.errors?.[0]?.message).toBe('password: must not be only whitespace');
  });

  it('is refused as a new password and when an administrator sets one', async () => {
    const user = await registerAndLogin(app);
    const change = await app.client.request(
      ChangePasswordDocument,
      { currentPassword: TEST_PASSWORD, newPassword: ' '.repeat(20) },
      { token: user.accessToken },
    );
    expect(change.code).toBe('BAD_USER_INPUT');
    expect(change.errors?.[0]?.extensions?.field).toBe('newPassword');

    const admin = await loginAsAdmin(app);
    const set = await app.client.request(UpdateUserDocument, { id: user.id, input: { password: ' '.repeat(20) } }, { token: admin });
    expect(set.code).toBe('BAD_USER_INPUT');
    expect((await login(user.email, TEST_PASSWORD)).errors).toBeUndefined();
  });

  it('does not stop a password that has whitespace around other characters', async () => {
    const user = await registerUser(app, uniqueEmail(), `   ${TEST_PASSWORD}   `);
    expect((await login(user.email, `   ${TEST_PASSWORD}   `)).errors).toBeUndefined();
  });
});
