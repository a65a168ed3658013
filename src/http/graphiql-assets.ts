import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import type { GraphiQLAsset } from './graphiql.ts';

const gzipAsync = promisify(gzip);

/**
 * GraphiQL's files, each on one exact path (any other path is not this handler's). GET only; the
 * path carries a version, so browsers keep a file for good; gzip when the client takes it (the
 * bundle is ~9 MB, ~2 MB compressed), compressed once and kept.
 */
export function useGraphiQLAssets(assets: ReadonlyMap<string, GraphiQLAsset>): Plugin {
  const gzipped = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
  const compressed = (path: string, asset: GraphiQLAsset) => {
    let bytes = gzipped.get(path);
    if (!bytes) {
      bytes = asset.load().then((raw) => gzipAsync(raw));
      bytes.catch(() => gzipped.delete(path));
      gzipped.set(path, bytes);
    }
    return bytes;
  };
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const asset = assets.get(url.pathname);
      if (!asset) return;
      if (request.method !== 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET', 'cache-control': 'no-store' } }));
        return;
      }
      const useGzip = /\bgzip\b/i.test(request.headers.get('accept-encoding') ?? '');
      const body = useGzip ? await compressed(url.pathname, asset) : await asset.load();
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        vary: 'Accept-Encoding',
        // Only GraphiQL's own page has a use for these files.
        'cross-origin-resource-policy': 'same-origin',
      };
      if (useGzip) headers['content-encoding'] = 'gzip';
      endResponse(new fetchAPI.Response(body, { status: 200, headers }));
    },
  };
}
