import type { Plugin } from 'graphql-yoga';
import type { GraphiQLAsset } from './graphiql.ts';

/**
 * GraphiQL's files, each on one exact path (any other path is not this handler's). GET only; the
 * path carries a version, so browsers keep a file for good; gzip when the client takes it.
 */
export function useGraphiQLAssets(assets: ReadonlyMap<string, GraphiQLAsset>): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const asset = assets.get(url.pathname);
      if (!asset) return;
      if (request.method !== 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET', 'cache-control': 'no-store' } }));
        return;
      }
      endResponse(await serveGraphiQLAsset(request, asset));
    },
  };
}

export async function serveGraphiQLAsset(request: Request, asset: GraphiQLAsset): Promise<Response> {
  const gzip = /\bgzip\b/i.test(request.headers.get('accept-encoding') ?? '');
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': 'public, max-age=31536000, immutable',
    vary: 'Accept-Encoding',
    // Only GraphiQL's own page has a use for these files.
    'cross-origin-resource-policy': 'same-origin',
  };
  if (gzip) headers['content-encoding'] = 'gzip';
  return new Response(gzip ? await asset.loadGzipped() : await asset.load(), { status: 200, headers });
}
