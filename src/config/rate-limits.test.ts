import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('abuse-resistance settings', () => {
  it('have the documented defaults', () => {
    const config = loadConfig({});
    expect(config.rateLimits.operations).toEqual({
      login: { ip: { points: 30, durationSeconds: 60 }, account: { points: 10, durationSeconds: 900 } },
      refresh: { ip: { points: 120, durationSeconds: 60 }, account: { points: 10, durationSeconds: 60 } },
      requestPasswordReset: { ip: { points: 10, durationSeconds: 900 }, account: { points: 3, durationSeconds: 3600 } },
      resetPassword: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      createUser: { ip: { points: 10, durationSeconds: 3600 }, account: { points: 3, durationSeconds: 3600 } },
      changePassword: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      generateTwoFactorSecret: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      enableTwoFactor: { ip: { points: 20, durationSeconds: 900 }, account: { points: 10, durationSeconds: 900 } },
      disableTwoFactor: { ip: { points: 20, durationSeconds: 900 }, account: { points: 10, durationSeconds: 900 } },
      regenerateRecoveryCodes: { ip: { points: 20, durationSeconds: 900 }, account: { points: 10, durationSeconds: 900 } },
      register: { ip: { points: 10, durationSeconds: 3600 }, account: { points: 3, durationSeconds: 3600 } },
      verifyEmail: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      resendVerificationEmail: { ip: { points: 10, durationSeconds: 900 }, account: { points: 3, durationSeconds: 3600 } },
      inviteUser: { ip: { points: 60, durationSeconds: 3600 }, account: { points: 3, durationSeconds: 3600 } },
      acceptInvite: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      requestEmailChange: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      confirmEmailChange: { ip: { points: 10, durationSeconds: 900 }, account: { points: 5, durationSeconds: 900 } },
      exchangeLoginCode: { ip: { points: 30, durationSeconds: 60 }, account: { points: 5, durationSeconds: 60 } },
      ssoLogin: { ip: { points: 60, durationSeconds: 60 }, account: null },
    });
    expect(config.rateLimits.lockout).toEqual({
      threshold: 5,
      windowSeconds: 900,
      baseSeconds: 60,
      maxSeconds: 900,
      knownIpTtlSeconds: 14 * 86400,
    });
    expect(config.graphqlLimits).toEqual({
      introspection: true,
      maxDepth: 8,
      maxAliases: 10,
      maxTokens: 1000,
      maxDirectives: 20,
      maxCost: 10_000,
      maxEntities: 100,
    });
    expect(config.cors).toEqual({
      origins: [],
      maxAgeSeconds: 600,
      allowHeaders: [
        'content-type',
        'authorization',
        'x-graphql-csrf',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'graphql-preflight',
        'apollographql-client-name',
        'apollographql-client-version',
      ],
    });
    expect(config.persistedOperations).toEqual({ only: false, manifest: null, automatic: true, apqCacheMaxBytes: 5_242_880 });
    expect(config.hsts).toBe(false);
  });

  it('turn introspection off and HSTS on for production over https', () => {
    const config = loadConfig({ NODE_ENV: 'production', SECRET: 'x'.repeat(32), PUBLIC_URL: 'https://auth.example.com' });
    expect(config.graphqlLimits.introspection).toBe(false);
    expect(config.hsts).toBe(true);
    expect(
      loadConfig({ NODE_ENV: 'production', SECRET: 'x'.repeat(32), PUBLIC_URL: 'https://a.example', GRAPHQL_INTROSPECTION: 'true' })
        .graphqlLimits.introspection,
    ).toBe(true);
  });

  it('read per-operation rates, off, and the other limits', () => {
    const config = loadConfig({
      RATE_LIMIT_LOGIN_IP: '30/60s',
      RATE_LIMIT_REQUEST_PASSWORD_RESET_ACCOUNT: 'off',
      GRAPHQL_MAX_DEPTH: 'off',
      GRAPHQL_MAX_COST: '2000',
      GRAPHQL_MAX_ENTITIES: '500',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      LOGIN_LOCKOUT_MAX: '1h',
    });
    expect(config.rateLimits.operations.login.ip).toEqual({ points: 30, durationSeconds: 60 });
    expect(config.rateLimits.operations.requestPasswordReset.account).toBeNull();
    expect(config.graphqlLimits).toMatchObject({ maxDepth: null, maxCost: 2000, maxEntities: 500 });
    expect(config.cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.rateLimits.lockout.maxSeconds).toBe(3600);
  });

  it.each([
    ['RATE_LIMIT_LOGIN_IP', 'lots'],
    ['RATE_LIMIT_CREATE_USER_ACCOUNT', '0/1m'],
    ['RATE_LIMIT_REFRESH_ACCOUNT', '5/40d'],
    ['GRAPHQL_MAX_DEPTH', '0'],
    ['GRAPHQL_MAX_TOKENS', 'many'],
    ['GRAPHQL_MAX_ENTITIES', '0'],
    ['GRAPHQL_INTROSPECTION', 'sometimes'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'null'],
    ['CORS_ORIGINS', 'https://app.example.com/'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['CORS_ORIGINS', 'ftp://app.example.com'],
    ['LOGIN_LOCKOUT_THRESHOLD', '0'],
    ['LOGIN_LOCKOUT_MAX', '2d'],
    ['LOGIN_KNOWN_IP_TTL', '30d'],
  ])('refuse %s=%j by name', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('refuse a first lockout longer than the cap', () => {
    expect(() => loadConfig({ LOGIN_LOCKOUT_BASE: '10m', LOGIN_LOCKOUT_MAX: '5m' })).toThrow(/LOGIN_LOCKOUT_BASE/);
  });
});
