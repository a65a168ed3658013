import { Client, type CombinedError, cacheExchange, fetchExchange } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';
import { LoginDocument, LogoutDocument, RefreshDocument, RegisterDocument, ViewerDocument } from './generated/graphql.ts';

// urql 6 with @urql/exchange-auth against Gatehouse in JSON mode: tokens in memory. The client is
// urql's default (queries go as GET, within the URL limit, with the bearer header). It refreshes
// before sending once the access token is due (willAuthError, from expiresIn), and after the
// server refused a token anyway (didAuthError on the codes), then retries the operation once.

interface Session {
  accessToken: string;
  refreshToken: string;
  /** When to refresh: a tenth of the lifetime early, for clock skew and time in flight. */
  refreshAt: number;
}

interface Credentials {
  accessToken?: string | null;
  refreshToken?: string | null;
  expiresIn: number;
}

/** The codes that say "this credential no longer works": refresh once, else log in again. */
const AUTH_CODES = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN']);

const isAuthError = (error: CombinedError | undefined) => !!error?.graphQLErrors.some((e) => AUTH_CODES.has(e.extensions?.code as string));

export interface GatehouseUrqlOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  url: string;
  fetch?: typeof fetch;
}

export function createGatehouseUrql({ url, fetch }: GatehouseUrqlOptions) {
  let session: Session | null = null;
  let refreshes = 0;
  const keep = (c: Credentials) => {
    session = { accessToken: c.accessToken!, refreshToken: c.refreshToken!, refreshAt: Date.now() + c.expiresIn * 900 };
  };

  const auth = authExchange(async (utils) => ({
    addAuthToOperation: (operation) =>
      session ? utils.appendHeaders(operation, { authorization: `Bearer ${session.accessToken}` }) : operation,
    willAuthError: () => session !== null && Date.now() >= session.refreshAt,
    didAuthError: (error) => isAuthError(error),
    async refreshAuth() {
      const refreshToken = session?.refreshToken;
      if (!refreshToken) return;
      const result = await utils.mutate(RefreshDocument, { refreshToken });
      if (result.data) {
        keep(result.data.refresh);
        refreshes += 1;
      } else if (isAuthError(result.error)) {
        // The session is over: the operations waiting for it fail with this error; log in again.
        // (A network failure keeps the session: they are sent once more, and may be retried.)
        session = null;
        throw result.error;
      }
    },
  }));

  const client = new Client({ url, fetch, exchanges: [cacheExchange, auth, fetchExchange] });

  return {
    client,
    get refreshes() {
      return refreshes;
    },
    get signedIn() {
      return session !== null;
    },

    async register(email: string, password: string) {
      const result = await client.mutation(RegisterDocument, { email, password }).toPromise();
      if (!result.data) throw result.error;
      return result.data.createUser;
    },

    /** Signs in; returns the access token's lifetime in seconds. */
    async login(email: string, password: string): Promise<number> {
      session = null;
      const result = await client.mutation(LoginDocument, { email, password }).toPromise();
      if (!result.data) throw result.error;
      keep(result.data.login);
      return result.data.login.expiresIn;
    },

    async viewer() {
      const result = await client.query(ViewerDocument, {}, { requestPolicy: 'network-only' }).toPromise();
      if (result.error) throw result.error;
      return result.data?.viewer ?? null;
    },

    /** Forgets the tokens first, then ends the session on the server. */
    async logout(): Promise<void> {
      const refreshToken = session?.refreshToken;
      session = null;
      if (!refreshToken) return;
      const result = await client.mutation(LogoutDocument, { refreshToken }).toPromise();
      if (result.error) throw result.error;
    },
  };
}

export type GatehouseUrql = ReturnType<typeof createGatehouseUrql>;
