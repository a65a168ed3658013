import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterDocument, ViewerDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// The issuer verifiers expect: PUBLIC_URL, not the address the test happens to reach.
const PUBLIC_URL = 'https://auth.example.test';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ PUBLIC_URL, JWT_AUDIENCE: 'api.example.test' });
});
afterAll(() => app.close());

describe('access tokens', () => {
  it('are EdDSA JWTs naming their key, session, user and policy names', async () => {
    const user = await registerAndLogin(app);
    expect(decodeProtectedHeader(user.accessToken)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(user.accessToken);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'policies', 'sid', 'sub']);
    expect(claims).toMatchObject({ iss: PUBLIC_URL, aud: 'api.example.test', sub: user.id, policies: ['User'] });
    expect(claims.exp! - claims.iat!).toBe(900);
    const session = await app.db.session.findUnique({ where: { id: String(claims.sid) } });
    expect(session?.userId).toBe(user.id);
  });

  it('are refused when signed by a key the service does not publish', async () => {
    const user = await registerAndLogin(app);
    const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
    const otherKid = Buffer.from(JSON.stringify({ ...decodeProtectedHeader(user.accessToken), kid: 'not-a-key-of-ours' })).toString(
      'base64url',
    );
    expect((await app.client.request(ViewerDocument, {}, { token: `${otherKid}.${payload}.${signature}` })).code).toBe('INVALID_TOKEN');
    // Claims edited under the original signature.
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(user.accessToken), policies: ['Administrator'] })).toString('base64url');
    expect((await app.client.request(ViewerDocument, {}, { token: `${header}.${forged}.${signature}` })).code).toBe('INVALID_TOKEN');
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public signing key, cacheable, without any private part', async () => {
    const res = await fetch(`${app.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('content-type')).toContain('application/jwk-set+json');
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(
        key.kty === 'EC' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
      );
      expect(key.use).toBe('sig');
    }
    const user = await registerAndLogin(app);
    expect(keys.map((k) => k.kid)).toContain(decodeProtectedHeader(user.accessToken).kid);
  });

  it('keeps private keys in the database only encrypted', async () => {
    const rows = await app.db.signingKey.findMany();
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row.privateKeyCiphertext).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.publicJwk).not.toHaveProperty('d');
      // A PKCS#8 Ed25519 key is 48 bytes: what is stored is that plus nonce and tag, never the DER itself.
      expect(row.privateKeyCiphertext).not.toContain('MC4CAQAwBQYDK2Vw');
    }
  });

  it('answers only GET and HEAD', async () => {
    expect((await fetch(`${app.url}/.well-known/jwks.json`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${app.url}/.well-known/jwks.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('GET /.well-known/openid-configuration', () => {
  it('names the issuer, the JWKS and the signing algorithm', async () => {
    const res = await fetch(`${app.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toMatchObject({
      issuer: PUBLIC_URL,
      jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['EdDSA'],
      claims_supported: expect.arrayContaining(['sub', 'sid', 'policies']),
    });
  });
});

describe('a third-party verifier (jose createRemoteJWKSet on our JWKS)', () => {
  it('accepts a fresh token offline; after logout only this service refuses it at once', async () => {
    const user = await registerAndLogin(app);
    // Pointed at the running service; the discovery document gives the issuer to pin.
    const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
    const verifyOffline = (token: string) =>
      jwtVerify(token, jwks, { issuer: PUBLIC_URL, audience: 'api.example.test', algorithms: ['EdDSA', 'ES256'] });
    const { payload } = await verifyOffline(user.accessToken);
    expect(payload).toMatchObject({ sub: user.id, policies: ['User'] });
    await expect(jwtVerify(user.accessToken, jwks, { issuer: 'https://other.example', audience: 'api.example.test' })).rejects.toThrow();

    // Offline verification cannot see revocation: a verifier without a call back to Gatehouse
    // accepts the token until `exp`. Only Gatehouse's own `viewer` refuses it from logout on.
    const logout = await app.client.raw({ query: 'mutation { logout }' }, { token: user.accessToken });
    expect(logout.data).toEqual({ logout: true });
    expect((await verifyOffline(user.accessToken)).payload.sub).toBe(user.id);
    expect((await app.client.request(ViewerDocument, {}, { token: user.accessToken })).code).toBe('INVALID_TOKEN');
  });
});

describe('JWT_POLICIES_CLAIM', () => {
  let custom: TestApp;
  beforeAll(async () => {
    custom = await startTestApp({ JWT_POLICIES_CLAIM: 'https://gatehouse.example/policies' });
  });
  afterAll(() => custom.close());

  it('puts policy names under the configured claim, and the service maps them back to access', async () => {
    const admin = await loginAsAdmin(custom);
    expect(decodeJwt(admin)).toMatchObject({ 'https://gatehouse.example/policies': ['Administrator'] });
    expect(decodeJwt(admin).policies).toBeUndefined();
    // Setting a user's status takes the Administrator policy, found only through the claim.
    const created = await custom.client.request(
      RegisterDocument,
      { input: { email: uniqueEmail(), password: TEST_PASSWORD, status: 'SUSPENDED' } },
      { token: admin },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createUser.status).toBe('SUSPENDED');
  });
});
