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
