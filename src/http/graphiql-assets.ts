import type { GraphiQL, GraphiQLAsset } from './graphiql.ts';
import type { FixedRoute } from './router.ts';

/**
 * GraphiQL's files, each on one exact path. The path carries a version, so browsers keep a file
 * for good; gzip when the client takes it.
 */
export function graphiqlAssetRoutes(graphiql: GraphiQL): [string, FixedRoute][] {
  return [...graphiql.assets].map(([path, asset]) => [path, (req) => serveGraphiQLAsset(asset, req.headers['accept-encoding'])]);
}

async function serveGraphiQLAsset(asset: GraphiQLAsset, acceptEncoding: string | undefined): Promise<Response> {
  const gzip = /\bgzip\b/i.test(acceptEncoding ?? '');
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
