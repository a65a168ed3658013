import type { Plugin } from 'graphql-yoga';
import type { ResponseCookies } from './cookies.ts';

/** Response cookies of each request, appended once the response exists. */
export const responseCookiesByRequest = new WeakMap<Request, ResponseCookies>();

export function useResponseHeaders(graphqlPath: string): Plugin {
  return {
    onResponse({ request, response }) {
      const headers = response.headers;
      headers.set('x-content-type-options', 'nosniff');
      headers.set('referrer-policy', 'no-referrer');
      headers.set('x-frame-options', 'DENY');
      if (new URL(request.url).pathname === graphqlPath) {
        // Auth responses carry tokens: never store them in any cache.
        headers.set('cache-control', 'no-store');
        for (const cookie of responseCookiesByRequest.get(request)?.toHeaders() ?? []) headers.append('set-cookie', cookie);
      }
    },
  };
}
