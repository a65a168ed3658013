import type { Plugin } from 'graphql-yoga';
import { errorResponse } from './error-response.ts';

// A cross-site page can send "simple" requests (form-urlencoded, multipart, text/plain bodies,
// or GET with only safelisted headers) with the victim's cookies and no CORS preflight. So a POST
// must declare a JSON body (which forces a preflight), and a GET may run an operation only when
// it carries something a page can send only after a preflight that CORS_ORIGINS allowed: a
// bearer token, one of the CSRF-prevention headers, or a non-simple Content-Type. A GET that
// carries nothing but cookies is refused, whatever its cookies.
export const CSRF_HEADERS = ['x-graphql-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];
const PREFLIGHT_HEADERS = ['authorization', ...CSRF_HEADERS];
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** True when a browser could only have sent this request after a successful CORS preflight. */
export function forcesPreflight(headers: Headers): boolean {
  if (PREFLIGHT_HEADERS.some((name) => headers.get(name))) return true;
  const type = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  return !!type && MEDIA_TYPE.test(type) && !SIMPLE_CONTENT_TYPES.includes(type);
}

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
        // GraphiQL's page itself is a plain navigation: let it through, but no operation. An
        // APQ request names its operation by `extensions` alone. Mutations over GET are refused
        // later, once the document is parsed (METHOD_NOT_ALLOWED).
        const wantsOperation = url.searchParams.has('query') || url.searchParams.has('extensions');
        if (wantsOperation && !forcesPreflight(request.headers)) endResponse(errorResponse(400, 'CSRF_REJECTED', { accept }));
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
