import type { Plugin } from 'graphql-yoga';

// Yoga serves GraphQL on any path that ends with the endpoint (`/graphql/`, `/x?a=/graphql`),
// where the CSRF check and the response headers, keyed to the exact path, would not apply. Every
// path this service does not name is a 404 before anything else runs.
export function useKnownPathsOnly(paths: readonly string[], prefixes: readonly string[] = []): Plugin {
  const known = new Set(paths);
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (known.has(url.pathname) || prefixes.some((p) => url.pathname.startsWith(p))) return;
      endResponse(
        new fetchAPI.Response('Not found', {
          status: 404,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
        }),
      );
    },
  };
}
