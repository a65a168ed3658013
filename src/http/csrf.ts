import type { Plugin } from 'graphql-yoga';
import { ERROR_CODES } from '../errors.ts';

// A cross-site page can send "simple" requests (form-urlencoded, multipart, text/plain bodies,
// or GET) with the victim's cookies and no preflight. So a POST must declare a JSON or GraphQL
// body, and a GET must carry a header that only a preflighted request can set.
const ALLOWED_POST_TYPES = ['application/json', 'application/graphql-response+json', 'application/graphql'];
export const CSRF_HEADERS = ['x-graphql-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

export function useCsrfPrevention(graphqlPath: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlPath) return;
      const reject = (status: number) =>
        endResponse(
          new fetchAPI.Response(
            JSON.stringify({ errors: [{ message: ERROR_CODES.CSRF_REJECTED, extensions: { code: 'CSRF_REJECTED' } }] }),
            {
              status,
              headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
            },
          ),
        );
      if (request.method === 'POST') {
        const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!ALLOWED_POST_TYPES.includes(type)) reject(415);
      } else if (request.method === 'GET') {
        // GraphiQL's page itself is a plain navigation: let it through, but no operation.
        const wantsOperation = url.searchParams.has('query');
        if (wantsOperation && !CSRF_HEADERS.some((h) => request.headers.get(h))) reject(400);
      }
    },
  };
}
