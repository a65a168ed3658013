import { ERROR_CODES, type ErrorCode } from '../errors.ts';

/** The one error body every non-GraphQL refusal uses: the shape of a GraphQL error response. */
export function errorBody(code: ErrorCode): string {
  return JSON.stringify({ errors: [{ message: ERROR_CODES[code], extensions: { code } }] });
}

/**
 * A refusal as a GraphQL-over-HTTP response: `application/graphql-response+json` when the client
 * accepts it (the spec's media type, under which clients read the body of a 4xx), else JSON.
 */
export function errorResponse(status: number, code: ErrorCode, options: { accept?: string | null; headers?: Record<string, string> } = {}) {
  const type = acceptsGraphQLResponse(options.accept) ? 'application/graphql-response+json' : 'application/json';
  return new Response(errorBody(code), {
    status,
    headers: { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', ...options.headers },
  });
}

function acceptsGraphQLResponse(accept: string | null | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.split(';'))
    .some(
      ([type, ...params]) =>
        type?.trim().toLowerCase() === 'application/graphql-response+json' && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p)),
    );
}
