import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { from, switchMap, throwError } from 'rxjs';
import { LoginDocument, LogoutDocument, RefreshDocument, RegisterDocument, ViewerDocument } from './generated/graphql.ts';

// Apollo Client 4 against Gatehouse in JSON mode: both tokens in memory (a server, a CLI, a native
// app; in a browser prefer COOKIE mode, see examples/browser). An error link refreshes on
// TOKEN_EXPIRED and retries the operation once; queries go as automatic persisted queries.

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** The codes that say "this credential no longer works": refresh once, else log in again. */
const AUTH_CODES = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN']);

const codeOf = (error: unknown): unknown => (CombinedGraphQLErrors.is(error) ? error.errors[0]?.extensions?.code : undefined);

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface GatehouseApolloOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  url: string;
  fetch?: typeof fetch;
}

export function createGatehouseApollo({ url, fetch }: GatehouseApolloOptions) {
  let tokens: Tokens | null = null;
  let refreshing: Promise<boolean> | null = null;
  let refreshes = 0;

  // The bearer header on every operation except those that must not carry one (login, refresh).
  const auth = new SetContextLink((context) =>
    tokens && !context.anonymous ? { headers: { ...context.headers, authorization: `Bearer ${tokens.accessToken}` } } : {},
  );

  // TOKEN_EXPIRED: refresh now, then retry. INVALID_TOKEN on an access token: its session ended,
  // or the key that signed it was withdrawn; one refresh tells which. Only once per operation.
  const renew = new ErrorLink(({ error, operation, forward }) => {
    const context = operation.getContext();
    if (!AUTH_CODES.has(codeOf(error) as string) || !tokens || context.anonymous || context.retried) return;
    operation.setContext({ retried: true });
    return from(refresh()).pipe(switchMap((renewed) => (renewed ? forward(operation) : throwError(() => error))));
  });

  const client = new ApolloClient({
    link: ApolloLink.from([
      renew,
      auth,
      // A hash first; the full document only when the server answers PERSISTED_QUERY_NOT_FOUND.
      new PersistedQueryLink({ sha256 }),
      new HttpLink({ uri: url, fetch }),
    ]),
    cache: new InMemoryCache(),
  });

  /** Trades the refresh token for new tokens; false when the session is over (log in again). */
  function refresh(): Promise<boolean> {
    // One at a time: a refresh token works once, and operations that failed together share it.
    refreshing ??= (async () => {
      const refreshToken = tokens?.refreshToken;
      if (!refreshToken) return false;
      try {
        const { data } = await client.mutate({ mutation: RefreshDocument, variables: { refreshToken }, context: { anonymous: true } });
        tokens = data ? { accessToken: data.refresh.accessToken!, refreshToken: data.refresh.refreshToken! } : null;
      } catch (error) {
        // A network failure keeps the session for a later try; a refused token ends it.
        if (!AUTH_CODES.has(codeOf(error) as string)) throw error;
        tokens = null;
      }
      if (tokens) refreshes += 1;
      return tokens !== null;
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  return {
    client,
    get refreshes() {
      return refreshes;
    },
    get signedIn() {
      return tokens !== null;
    },

    async register(email: string, password: string) {
      const { data } = await client.mutate({ mutation: RegisterDocument, variables: { email, password }, context: { anonymous: true } });
      return data!.createUser;
    },

    /** Signs in; returns the access token's lifetime in seconds. */
    async login(email: string, password: string): Promise<number> {
      tokens = null;
      const { data } = await client.mutate({ mutation: LoginDocument, variables: { email, password }, context: { anonymous: true } });
      const login = data!.login;
      tokens = { accessToken: login.accessToken!, refreshToken: login.refreshToken! };
      return login.expiresIn;
    },

    async viewer() {
      const { data } = await client.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
      return data?.viewer ?? null;
    },

    /** Forgets the tokens first, then ends the session on the server. */
    async logout(): Promise<void> {
      const refreshToken = tokens?.refreshToken;
      tokens = null;
      await client.clearStore();
      if (refreshToken) await client.mutate({ mutation: LogoutDocument, variables: { refreshToken }, context: { anonymous: true } });
    },
  };
}

export type GatehouseApollo = ReturnType<typeof createGatehouseApollo>;
