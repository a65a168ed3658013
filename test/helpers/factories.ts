import { LoginDocument, RegisterDocument } from '../generated/graphql.ts';
import { ADMIN_EMAIL, TEST_PASSWORD, type TestApp, uniqueEmail } from './test-app.ts';

/** Registers a fresh user through the public API and returns its id and email. */
export async function registerUser(app: TestApp, email = uniqueEmail(), password = TEST_PASSWORD) {
  const res = await app.client.request(RegisterDocument, { input: { email, password } });
  if (!res.data) throw new Error(`registration failed: ${JSON.stringify(res.errors)}`);
  return { id: res.data.createUser.id, email, password };
}

/** A fresh user, logged in with JSON mode. */
export async function registerAndLogin(app: TestApp) {
  const user = await registerUser(app);
  const res = await app.client.request(LoginDocument, { email: user.email, password: user.password, mode: 'JSON' });
  if (!res.data) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
  return { ...user, accessToken: res.data.login.accessToken!, refreshToken: res.data.login.refreshToken! };
}

export async function loginAsAdmin(app: TestApp): Promise<string> {
  const res = await app.client.request(LoginDocument, { email: ADMIN_EMAIL, password: TEST_PASSWORD, mode: 'JSON' });
  if (!res.data) throw new Error(`admin login failed: ${JSON.stringify(res.errors)}`);
  return res.data.login.accessToken!;
}
