import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

/** An account at a test provider, by the login typed into its sign-in form. */
export interface TestAccount {
  email?: string;
  emailVerified?: boolean;
}

export interface TestProvider {
  url: string;
  /** Accounts by login (the provider's subject is the login, or for OAuth 2.0 a number derived from it). */
  accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

export const CLIENT_ID = 'gatehouse';
export const CLIENT_SECRET = 'test-client-secret-do-not-log-0123456789';

/**
 * A real OpenID provider (oidc-provider, with its development sign-in and consent forms) at
 * http://127.0.0.1:<port>, knowing one confidential client whose redirect URI is `redirectUri`.
 * The login typed into its form is the subject; its claims come from `accounts`.
 */
export async function startOidcProvider(port: number, redirectUris: string[]): Promise<TestProvider> {
  const accounts = new Map<string, TestAccount>();
  const url = `http://127.0.0.1:${port}`;
  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris,
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => {
        const account = accounts.get(id) ?? {};
        return { sub: id, ...(account.email ? { email: account.email, email_verified: account.emailVerified === true } : {}) };
      },
    }),
    cookies: { keys: ['test-cookie-key-0123456789'] },
  });
  const handle = provider.callback();
  // A login typed as `mfa-…` signs in with a second factor: the ID token then says amr ["pwd","mfa"]
  // (the development forms know no MFA, so this one submission is finished here).
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(req.url ?? '')) {
      const body = new URLSearchParams(await readBody(req));
      const login = body.get('login') ?? '';
      if (body.get('prompt') === 'login' && login.startsWith('mfa-')) {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: login, amr: ['pwd', 'mfa'] } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      // Hand the body on: the stream is consumed, so the provider reads this copy.
      Object.assign(req, { body: Object.fromEntries(body) });
    }
    handle(req, res);
  });
  await listen(server, port);
  return { url, accounts, close: () => close(server) };
}

interface PendingCode {
  login: string;
  redirectUri: string;
  challenge: string;
  used: boolean;
}

/**
 * A plain OAuth 2.0 provider: /authorize shows a sign-in form, then redirects with a code; /token
 * trades a code once (PKCE S256 checked, client secret checked); /user answers the profile
 * GitHub-style ({ id: <number>, login, email }) for a bearer token.
 */
export async function startOAuthProvider(port: number, redirectUri: string): Promise<TestProvider> {
  const accounts = new Map<string, TestAccount>();
  const codes = new Map<string, PendingCode>();
  const tokens = new Map<string, string>();
  const url = `http://127.0.0.1:${port}`;
  const server = createServer(async (req, res) => {
    const reqUrl = new URL(req.url ?? '/', url);
    const body = new URLSearchParams(await readBody(req));
    const send = (status: number, payload: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (reqUrl.pathname === '/authorize' && req.method === 'GET') {
      const q = reqUrl.searchParams;
      if (q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== redirectUri || q.get('code_challenge_method') !== 'S256')
        return send(400, { error: 'invalid_request' });
      const hidden = ['redirect_uri', 'state', 'code_challenge']
        .map((n) => `<input type="hidden" name="${n}" value="${escapeHtml(q.get(n) ?? '')}">`)
        .join('');
      return send(200, `<form method="post" action="/authorize">${hidden}<input name="login"><button>Sign in</button></form>`, 'text/html');
    }
    if (reqUrl.pathname === '/authorize' && req.method === 'POST') {
      const code = randomBytes(16).toString('hex');
      codes.set(code, { login: body.get('login') ?? '', redirectUri, challenge: body.get('code_challenge') ?? '', used: false });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      target.searchParams.set('state', body.get('state') ?? '');
      res.writeHead(302, { location: target.href });
      return res.end();
    }
    if (reqUrl.pathname === '/token' && req.method === 'POST') {
      const pending = codes.get(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (body.get('client_id') !== CLIENT_ID || body.get('client_secret') !== CLIENT_SECRET) return send(401, { error: 'invalid_client' });
      if (!pending || pending.used || pending.challenge !== challenge || body.get('redirect_uri') !== pending.redirectUri)
        return send(400, { error: 'invalid_grant', error_description: 'provider internal detail that must not leak' });
      pending.used = true;
      const token = randomBytes(16).toString('hex');
      tokens.set(token, pending.login);
      return send(200, { access_token: token, token_type: 'bearer', scope: 'email' });
    }
    if (reqUrl.pathname === '/user' && req.method === 'GET') {
      const login = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
      if (!login) return send(401, { message: 'Bad credentials' });
      const account = accounts.get(login) ?? {};
      return send(200, { id: numericId(login), login, email: account.email ?? null });
    }
    send(404, { error: 'not_found' });
  });
  await listen(server, port);
  return { url, accounts, close: () => close(server) };
}

/** A stable number per login, as GitHub's ids are numbers. */
export function numericId(login: string): number {
  return Number.parseInt(createHash('sha256').update(login).digest('hex').slice(0, 8), 16);
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      data += chunk;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
