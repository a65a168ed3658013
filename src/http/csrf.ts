import type { Plugin } from 'graphql-yoga';
import { errorResponse } from './error-response.ts';

// A cross-site page can send "simple" requests (form-urlencoded, multipart, text/plain bodies,
// or GET) with the victim's cookies and no preflight. So a POST must declare a JSON body, and a
// GET must carry a header that only a preflighted request can set.
export const CSRF_HEADERS = ['x-graphql-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

/**
 * The only request body this service reads. `application/graphql` (a bare document, dropped from
 * the GraphQL-over-HTTP spec) and forms are refused too: one parser, one set of checks.
 */
export const POST_CONTENT_TYPE = 'application/json';

/** `application/json` or `application/json; charset=utf-8`; never a list, never anything else. */
export function isJsonContentType(header: string | null): boolean {
  if (!header || header.includes(',')) return false;
  return header.split(';')[0]?.trim().toLowerCase() === POST_CONTENT_TYPE;
}

export function useCsrfPrevention(): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      const accept = request.headers.get('accept');
      if (request.method === 'POST') {
        if (!isJsonContentType(request.headers.get('content-type'))) endResponse(errorResponse(415, 'CSRF_REJECTED', { accept }));
      } else if (request.method === 'GET') {
        // GraphiQL's page itself is a plain navigation: let it through, but no operation.
        const wantsOperation = url.searchParams.has('query') || url.searchParams.has('extensions');
        if (wantsOperation && !CSRF_HEADERS.some((h) => request.headers.get(h)))
          endResponse(errorResponse(400, 'CSRF_REJECTED', { accept }));
      }
    },
    // Yoga also ships parsers for forms and application/graphql bodies. Whatever got past the
    // check above, no POST body is ever read by one of those.
    onRequestParse({ request, setRequestParser }) {
      if (request.method === 'POST' && !isJsonContentType(request.headers.get('content-type'))) {
        setRequestParser(() => errorResponse(415, 'CSRF_REJECTED', { accept: request.headers.get('accept') }));
      }
    },
  };
}
