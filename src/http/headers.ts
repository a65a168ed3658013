import type { Plugin } from 'graphql-yoga';
import type { ResponseCookies } from './cookies.ts';

/** Response cookies of each request, appended once the response exists. */
export const responseCookiesByRequest = new WeakMap<Request, ResponseCookies>();

// JSON needs no sources at all; a page that sets its own policy (the reset page, GraphiQL) keeps it.
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The headers every response carries, whoever produced it (GraphQL, a fixed route, a refusal of
 * a malformed request): set in one place, by the router, after the handler. A handler may set its
 * own Content-Security-Policy and Cache-Control; the rest are not negotiable.
 */
export function securityHeaders(options: { hsts: boolean }): {
  forced: readonly [string, string][];
  defaults: readonly [string, string][];
} {
  const forced: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['x-frame-options', 'DENY'],
  ];
  // One year, this host only: subdomains may be other people's services.
  if (options.hsts) forced.push(['strict-transport-security', 'max-age=31536000']);
  return {
    forced,
    defaults: [
      ['content-security-policy', API_CSP],
      ['cache-control', 'no-store'],
    ],
  };
}

export type SecurityHeaders = ReturnType<typeof securityHeaders>;

export function applySecurityHeaders(headers: Headers, security: SecurityHeaders): void {
  for (const [name, value] of security.forced) headers.set(name, value);
  for (const [name, value] of security.defaults) if (!headers.has(name)) headers.set(name, value);
}

export interface GraphQLResponseHeaderOptions {
  /** CORS is configured, so responses differ by Origin. */
  cors: boolean;
  /** The CSP of the GraphiQL page, when GraphiQL is served. */
  graphiqlCsp: string | null;
}

/** What only the GraphQL endpoint adds: no caching at all, its cookies, and GraphiQL's CSP. */
export function useGraphQLResponseHeaders(options: GraphQLResponseHeaderOptions): Plugin {
  return {
    onResponse({ request, response }) {
      const headers = response.headers;
      // Auth responses carry tokens: never store them in any cache.
      headers.set('cache-control', 'no-store');
      if (options.cors) headers.append('vary', 'Origin');
      // The only page served on this path is GraphiQL.
      const isPage = (headers.get('content-type') ?? '').startsWith('text/html');
      if (isPage && options.graphiqlCsp) headers.set('content-security-policy', options.graphiqlCsp);
      for (const cookie of responseCookiesByRequest.get(request)?.toHeaders() ?? []) headers.append('set-cookie', cookie);
    },
  };
}
