import * as oidc from 'openid-client';
import type { AuthProviderConfig } from '../../config/auth-providers.ts';

/** What Gatehouse takes from a provider once its answer has been verified. */
export interface ExternalProfile {
  subject: string;
  email: string | null;
  /** The provider asserts the address is verified (its `EMAIL_VERIFIED_KEY` is exactly true). */
  emailVerified: boolean;
  /** OpenID `amr` values of this authentication (empty for OAuth 2.0). */
  amr: string[];
}

/** The secrets of one authorization request, kept in the browser's sealed state cookie. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string | null;
  codeVerifier: string;
}

/** Why a callback failed: the redirect's documented error code. */
export class ProviderError extends Error {
  constructor(
    readonly code: 'SSO_FAILED' | 'SSO_ACCESS_DENIED' | 'SSO_PROVIDER_UNAVAILABLE',
    options: { cause?: unknown } = {},
  ) {
    super(code, options);
    this.name = 'ProviderError';
  }
}

const TIMEOUT_SECONDS = 10;
/** A failed discovery is tried again on the next login, not at every request of a burst. */
const DISCOVERY_RETRY_MS = 5_000;

/**
 * One provider through openid-client: discovery (OpenID, on first use and cached) or the
 * configured endpoints (OAuth 2.0), the authorization URL with PKCE S256, state and (OpenID)
 * nonce, and the checks of the callback: state, PKCE at the token endpoint, the ID token's
 * signature, issuer, audience and nonce. Nothing of the provider's error text leaves here.
 */
export class ProviderClient {
  private configuration: Promise<oidc.Configuration> | null = null;
  private failedAt = 0;

  constructor(
    readonly provider: AuthProviderConfig,
    private readonly redirectUri: string,
  ) {}

  async authorizationRequest(): Promise<AuthorizationRequest> {
    const config = await this.config();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = this.provider.driver === 'openid' ? oidc.randomNonce() : null;
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri,
      scope: this.provider.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    };
    if (nonce) parameters.nonce = nonce;
    return { url: oidc.buildAuthorizationUrl(config, parameters), state, nonce, codeVerifier };
  }

  /** Verifies the callback (the URL as the provider sent the browser to us) and reads the profile. */
  async complete(callbackUrl: URL, expected: { state: string; nonce: string | null; codeVerifier: string }): Promise<ExternalProfile> {
    const error = callbackUrl.searchParams.get('error');
    if (error) throw new ProviderError(error === 'access_denied' ? 'SSO_ACCESS_DENIED' : 'SSO_FAILED');
    const config = await this.config();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        ...(expected.nonce ? { expectedNonce: expected.nonce } : {}),
        ...(this.provider.driver === 'openid' ? { idTokenExpected: true } : {}),
      });
    } catch (cause) {
      throw new ProviderError(isUnreachable(cause) ? 'SSO_PROVIDER_UNAVAILABLE' : 'SSO_FAILED', { cause });
    }
    try {
      return this.provider.driver === 'openid' ? await this.openIdProfile(config, tokens) : await this.oauthProfile(config, tokens);
    } catch (cause) {
      if (cause instanceof ProviderError) throw cause;
      throw new ProviderError(isUnreachable(cause) ? 'SSO_PROVIDER_UNAVAILABLE' : 'SSO_FAILED', { cause });
    }
  }

  private async openIdProfile(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) {
    const claims = tokens.claims();
    if (!claims) throw new ProviderError('SSO_FAILED');
    let merged: Record<string, unknown> = { ...claims };
    // Many providers put the email in userinfo only; its `sub` must be the ID token's.
    if (!(this.provider.emailKey in claims) && config.serverMetadata().userinfo_endpoint) {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      merged = { ...userinfo, ...claims };
    }
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
    return this.profile(merged, amr);
  }

  private async oauthProfile(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse) {
    const response = await oidc.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(this.provider.profileUrl as string),
      'GET',
      undefined,
      new Headers({ accept: 'application/json' }),
    );
    if (!response.ok) throw new ProviderError('SSO_FAILED');
    const body: unknown = await response.json().catch(() => null);
    if (!body || typeof body !== 'object') throw new ProviderError('SSO_FAILED');
    return this.profile(body as Record<string, unknown>, []);
  }

  private profile(data: Record<string, unknown>, amr: string[]): ExternalProfile {
    const subject = pick(data, this.provider.identifierKey);
    if ((typeof subject !== 'string' && typeof subject !== 'number') || String(subject).length === 0 || String(subject).length > 255)
      throw new ProviderError('SSO_FAILED');
    const email = pick(data, this.provider.emailKey);
    const verified = pick(data, this.provider.emailVerifiedKey);
    const validEmail = typeof email === 'string' && email.length > 0 && email.length <= 320 ? email : null;
    return { subject: String(subject), email: validEmail, emailVerified: validEmail !== null && verified === true, amr };
  }

  private config(): Promise<oidc.Configuration> {
    if (this.configuration) return this.configuration;
    if (Date.now() - this.failedAt < DISCOVERY_RETRY_MS) return Promise.reject(new ProviderError('SSO_PROVIDER_UNAVAILABLE'));
    const attempt = this.createConfig().catch((cause: unknown) => {
      this.configuration = null;
      this.failedAt = Date.now();
      throw new ProviderError('SSO_PROVIDER_UNAVAILABLE', { cause });
    });
    this.configuration = attempt;
    return attempt;
  }

  private async createConfig(): Promise<oidc.Configuration> {
    const p = this.provider;
    const secret = p.clientSecret ?? undefined;
    const auth = secret ? oidc.ClientSecretPost(secret) : oidc.None();
    const execute = p.allowInsecureRequests ? [oidc.allowInsecureRequests] : [];
    if (p.driver === 'openid') {
      return oidc.discovery(new URL(p.issuerUrl as string), p.clientId, secret, auth, { execute, timeout: TIMEOUT_SECONDS });
    }
    const server: oidc.ServerMetadata = {
      issuer: new URL(p.authorizeUrl as string).origin,
      authorization_endpoint: p.authorizeUrl as string,
      token_endpoint: p.tokenUrl as string,
    };
    const config = new oidc.Configuration(server, p.clientId, secret, auth);
    config.timeout = TIMEOUT_SECONDS;
    for (const step of execute) step(config);
    return config;
  }
}

/** A top-level or dotted key (`data.id`) of a claims set or profile. */
function pick(data: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(data, key)) return data[key];
  let value: unknown = data;
  for (const part of key.split('.')) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (e.message === 'fetch failed') return true;
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return true;
  }
  return false;
}
