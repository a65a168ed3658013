import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const GOOGLE = {
  AUTH_PROVIDERS: 'google,github',
  AUTH_GOOGLE_DRIVER: 'openid',
  AUTH_GOOGLE_ISSUER_URL: 'https://accounts.google.com',
  AUTH_GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
  AUTH_GOOGLE_CLIENT_SECRET: 'google-secret-value',
  AUTH_GOOGLE_REDIRECT_ALLOW_LIST: 'https://app.example.com/auth/done',
  AUTH_GITHUB_DRIVER: 'oauth2',
  AUTH_GITHUB_AUTHORIZE_URL: 'https://github.com/login/oauth/authorize',
  AUTH_GITHUB_TOKEN_URL: 'https://github.com/login/oauth/access_token',
  AUTH_GITHUB_PROFILE_URL: 'https://api.github.com/user',
  AUTH_GITHUB_CLIENT_ID: 'Iv1.abc',
  AUTH_GITHUB_CLIENT_SECRET: 'github-secret-value',
  AUTH_GITHUB_REDIRECT_ALLOW_LIST: 'https://app.example.com/auth/done',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('single sign-on providers in the configuration', () => {
  it('has none by default', () => {
    expect(loadConfig({}).authProviders).toEqual([]);
  });

  it('reads each provider with secure defaults', () => {
    const [google, github] = loadConfig(GOOGLE).authProviders;
    expect(google).toMatchObject({
      name: 'google',
      label: 'Google',
      driver: 'openid',
      issuerUrl: 'https://accounts.google.com/',
      scope: 'openid email profile',
      identifierKey: 'sub',
      emailKey: 'email',
      allowPublicRegistration: false,
      trustEmail: false,
      mfaAmr: [],
      allowInsecureRequests: false,
    });
    expect(github).toMatchObject({ driver: 'oauth2', identifierKey: 'id', scope: 'email', profileUrl: 'https://api.github.com/user' });
  });

  it('reports every invalid variable at once, by name, and never echoes a secret', () => {
    const problems = problemsOf({
      AUTH_PROVIDERS: 'corp,bad-name,gh',
      AUTH_CORP_DRIVER: 'saml',
      AUTH_CORP_CLIENT_SECRET: 'very-secret-value',
      AUTH_CORP_ALLOW_PUBLIC_REGISTRATION: 'maybe',
      AUTH_CORP_DEFAULT_ROLE_ID: 'admins',
      AUTH_GH_DRIVER: 'oauth2',
      AUTH_GH_AUTHORIZE_URL: 'http://github.example/authorize',
      AUTH_GH_TOKEN_URL: 'https://user:pw@github.example/token',
      AUTH_GH_CLIENT_ID: 'x',
      AUTH_GH_IDENTIFIER_KEY: 'email',
      AUTH_GH_MFA_AMR: 'mfa',
      AUTH_GH_REDIRECT_ALLOW_LIST: 'javascript:alert(1)',
    });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'AUTH_PROVIDERS',
        'AUTH_CORP_DRIVER',
        'AUTH_CORP_CLIENT_ID',
        'AUTH_CORP_ALLOW_PUBLIC_REGISTRATION',
        'AUTH_CORP_DEFAULT_ROLE_ID',
        'AUTH_CORP_REDIRECT_ALLOW_LIST',
        'AUTH_GH_AUTHORIZE_URL',
        'AUTH_GH_TOKEN_URL',
        'AUTH_GH_PROFILE_URL',
        'AUTH_GH_IDENTIFIER_KEY',
        'AUTH_GH_MFA_AMR',
        'AUTH_GH_REDIRECT_ALLOW_LIST',
      ]),
    );
    expect(problems.join('\n')).not.toContain('very-secret-value');
  });

  it('accepts http endpoints only on loopback hosts, for a provider beside Gatehouse', () => {
    const local = loadConfig({
      AUTH_PROVIDERS: 'dev',
      AUTH_DEV_DRIVER: 'openid',
      AUTH_DEV_ISSUER_URL: 'http://127.0.0.1:9000',
      AUTH_DEV_CLIENT_ID: 'gatehouse',
      AUTH_DEV_REDIRECT_ALLOW_LIST: 'http://localhost:5173/',
    }).authProviders[0];
    expect(local?.allowInsecureRequests).toBe(true);
    expect(problemsOf({ ...GOOGLE, AUTH_GOOGLE_ISSUER_URL: 'http://accounts.example.com' })[0]).toMatch(/^AUTH_GOOGLE_ISSUER_URL: /);
  });

  it('refuses an OpenID scope without openid and variables of the other driver', () => {
    const problems = problemsOf({ ...GOOGLE, AUTH_GOOGLE_SCOPE: 'email profile', AUTH_GOOGLE_TOKEN_URL: 'https://x.example/token' });
    expect(problems).toEqual([
      'AUTH_GOOGLE_TOKEN_URL: not used with DRIVER=openid',
      'AUTH_GOOGLE_SCOPE: must include openid with DRIVER=openid',
    ]);
  });
});
