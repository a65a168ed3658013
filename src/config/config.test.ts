import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has safe defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4000, databaseUrl: null, publicUrl: 'http://127.0.0.1:4000', graphiql: true });
    expect(config.tokens).toMatchObject({
      accessTtlSeconds: 900,
      refreshTtlSeconds: 7 * 86400,
      sessionTtlSeconds: 86400,
      resetTtlSeconds: 3600,
    });
    expect(config.passwords.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(config.cookies).toMatchObject({ secure: false, sameSite: 'lax', path: '/' });
    expect(config.passwordReset.allowList).toEqual(['http://127.0.0.1:4000/reset-password']);
    expect(config.tokens).toMatchObject({
      algorithm: 'EdDSA',
      policiesClaim: 'policies',
      keyReloadSeconds: 10,
      keyActivationDelaySeconds: 300,
      refreshReuseGraceSeconds: 10,
    });
    expect(config).toMatchObject({ redis: null, trustedProxies: [], revocation: { pollSeconds: 1 } });
  });

  it('reads the shutdown and timeout settings, and refuses a drain delay that outlasts the timeout', () => {
    expect(loadConfig({})).toMatchObject({
      shutdown: { timeoutSeconds: 10, drainDelaySeconds: 0 },
      databaseConnectTimeoutSeconds: 5,
      email: { smtpTimeoutSeconds: 10 },
    });
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '30s', SHUTDOWN_DRAIN_DELAY: '5s' }).shutdown).toEqual({
      timeoutSeconds: 30,
      drainDelaySeconds: 5,
    });
    expect(() => loadConfig({ SHUTDOWN_DRAIN_DELAY: '10s' })).toThrow(/SHUTDOWN_DRAIN_DELAY: must be shorter than SHUTDOWN_TIMEOUT/);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_DELAY: '-1' })).toThrow(/SHUTDOWN_DRAIN_DELAY/);
  });

  it('reads the token, Redis and proxy settings', () => {
    const config = loadConfig({
      JWT_ALGORITHM: 'ES256',
      JWT_POLICIES_CLAIM: 'https://example.com/policies',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gh:prod',
      TRUST_PROXY: '10.0.0.0/8, 192.0.2.1 ,2001:db8::/32',
    });
    expect(config.tokens).toMatchObject({ algorithm: 'ES256', policiesClaim: 'https://example.com/policies' });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'gh:prod' });
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
  });

  it.each([
    ['JWT_ALGORITHM', 'HS256'],
    ['JWT_ALGORITHM', 'none'],
    ['JWT_POLICIES_CLAIM', 'sub'],
    ['JWT_POLICIES_CLAIM', 'has space'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'proxy.example.com'],
    ['TRUST_PROXY', '1.2.3.4/8/8'],
    ['REFRESH_REUSE_GRACE', '0'],
  ])('refuses %s=%j by name', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('names the account of the embedded PostgreSQL as root, and refuses one that is not a system account name', () => {
    expect(loadConfig({}).embeddedPostgresUser).toBe('gatehouse-postgres');
    expect(loadConfig({ EMBEDDED_POSTGRES_USER: 'pg_gate' }).embeddedPostgresUser).toBe('pg_gate');
    for (const bad of ['Root', 'a b', '-x', 'x;id', 'a'.repeat(33)]) {
      expect(() => loadConfig({ EMBEDDED_POSTGRES_USER: bad })).toThrow(/EMBEDDED_POSTGRES_USER/);
    }
  });

  it('turns Secure cookies on for an https PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://auth.example.com' }).cookies.secure).toBe(true);
  });

  it('reports every invalid variable at once, by name', () => {
    try {
      loadConfig({ PORT: 'abc', ACCESS_TOKEN_TTL: 'soon', DATABASE_URL: 'mysql://x', SECRET: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      for (const name of ['PORT', 'ACCESS_TOKEN_TTL', 'DATABASE_URL', 'SECRET']) expect(message).toContain(name);
    }
  });

  it('refuses weak hashing outside tests and an insecure production setup', () => {
    expect(() => loadConfig({ ARGON2_MEMORY_KIB: '1024' })).toThrow(/ARGON2_MEMORY_KIB/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET[\s\S]*PUBLIC_URL/);
    expect(() => loadConfig({ COOKIE_SAME_SITE: 'none' })).toThrow(/COOKIE_SAME_SITE/);
    expect(() => loadConfig({ PASSWORD_RESET_URL_ALLOW_LIST: 'https://u:p@x.example/reset' })).toThrow(/PASSWORD_RESET_URL_ALLOW_LIST/);
  });
});
