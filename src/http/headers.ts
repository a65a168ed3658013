import type { Plugin } from 'graphql-yoga';
import type { ResponseCookies } from './cookies.ts';

/** Response cookies of each request, appended once the response exists. */
export const responseCookiesByRequest = new WeakMap<Request, ResponseCookies>();

export interface ResponseHeaderOptions {
  /** PUBLIC_URL is https: tell browsers to keep to https. */
  hsts: boolean;
  /** CORS is configured, so responses differ by Origin. */
  cors: boolean;
  /** The CSP of the GraphiQL page, when GraphiQL is served. */
  graphiqlCsp: string | null;
}

// JSON needs no sources at all; a page that sets its own policy (the reset page) keeps it.
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function useResponseHeaders(graphqlPath: string, options: ResponseHeaderOptions): Plugin {
  return {
    onResponse({ request, response }) {
      const headers = response.headers;
      headers.set('x-content-type-options', 'nosniff');
      headers.set('referrer-policy', 'no-referrer');
      headers.set('x-frame-options', 'DENY');
      // One year, this host only: subdomains may be other people's services.
      if (options.hsts) headers.set('strict-transport-security', 'max-age=31536000');
      if (new URL(request.url).pathname === graphqlPath) {
        // Auth responses carry tokens: never store them in any cache.
        headers.set('cache-control', 'no-store');
        if (options.cors) headers.append('vary', 'Origin');
        // The only page served on this path is GraphiQL.
        const isPage = (headers.get('content-type') ?? '').startsWith('text/html');
        if (isPage && options.graphiqlCsp) headers.set('content-security-policy', options.graphiqlCsp);
        for (const cookie of responseCookiesByRequest.get(request)?.toHeaders() ?? []) headers.append('set-cookie', cookie);
      }
      if (!headers.has('content-security-policy')) headers.set('content-security-policy', API_CSP);
    },
  };
}
