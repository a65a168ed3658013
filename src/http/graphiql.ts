import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';
import { type GraphiQLBundle as Bundle, graphiqlBundleVersion, loadGraphiQLBundle } from './graphiql-bundle.ts';

// GraphiQL from this server alone, so air-gapped installs get an explorer too. The assets are the
// ones @graphql-yoga/render-graphiql ships prebuilt (GraphiQL, React, Monaco and its workers as
// strings, see graphiql-bundle.ts); instead of inlining ~9 MB into every page as that package does, they are served as
// files under one versioned path, cached for good, and the page is a few lines of HTML that a CSP
// of 'self' sources covers: no inline script, no 'unsafe-eval', no other host.

const GRAPHIQL_ASSET_DIR = '/graphiql/';
const gzipAsync = promisify(gzip);

interface AssetSpec {
  type: string;
  body: (bundle: Bundle) => string | Uint8Array<ArrayBuffer>;
}

const JS = 'text/javascript; charset=utf-8';

// Monaco asks for a worker by label; each label is one file here.
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' } as const;

// Runs before the bundle (Monaco reads its environment when it loads) and renders once the
// document has parsed, by which time the bundle has defined YogaGraphiQL.
const BOOT_SCRIPT = `(() => {
  const base = document.currentScript.src.replace(/[^/]*$/, '');
  const workers = ${JSON.stringify(WORKERS)};
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => base + workers[label] };
  document.addEventListener('DOMContentLoaded', () => {
    const options = JSON.parse(document.getElementById('graphiql-options').textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  });
})();
`;

const ASSETS: Record<string, AssetSpec> = {
  'boot.js': { type: JS, body: () => BOOT_SCRIPT },
  'graphiql.js': { type: JS, body: (b) => b.js },
  'graphiql.css': { type: 'text/css; charset=utf-8', body: (b) => b.css },
  [WORKERS.editorWorkerService]: { type: JS, body: (b) => b.editorWorkerService },
  [WORKERS.json]: { type: JS, body: (b) => b.jsonWorker },
  [WORKERS.graphql]: { type: JS, body: (b) => b.graphqlWorker },
  'favicon.ico': { type: 'image/x-icon', body: (b) => Buffer.from(b.favicon.slice(b.favicon.indexOf(',') + 1), 'base64') },
};

export interface GraphiQLAsset {
  type: string;
  /** The file's bytes, loaded on first use: the bundle is not read unless someone opens GraphiQL. */
  load(): Promise<Uint8Array<ArrayBuffer>>;
  /** The same, gzipped once and kept (the bundle is ~9 MB, ~2 MB compressed). */
  loadGzipped(): Promise<Uint8Array<ArrayBuffer>>;
}

export interface GraphiQL {
  /** The page served on the GraphQL endpoint to a browser. */
  html: string;
  /** Its Content-Security-Policy. */
  csp: string;
  /** Exact path -> asset. Paths carry a version, so each may be cached as immutable. */
  assets: ReadonlyMap<string, GraphiQLAsset>;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Monaco and GraphiQL set style attributes and inject style elements at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function prepareGraphiQL(options: GraphiQLOptions): GraphiQL {
  const version = createHash('sha256').update(graphiqlBundleVersion()).update(BOOT_SCRIPT).digest('hex').slice(0, 16);
  const dir = `${GRAPHIQL_ASSET_DIR}${version}/`;
  const bundle = once(loadGraphiQLBundle);
  const assets = new Map<string, GraphiQLAsset>();
  for (const [name, spec] of Object.entries(ASSETS)) {
    const load = once(async () => {
      const body = spec.body(await bundle());
      return typeof body === 'string' ? Buffer.from(body) : body;
    });
    const loadGzipped = once(async () => gzipAsync(await load()));
    assets.set(`${dir}${name}`, { type: spec.type, load, loadGzipped });
  }
  return { html: renderPage(dir, options), csp: CSP, assets };
}

/** Runs `load` once and keeps the result; a failure is not kept, so the next call tries again. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () =>
    (pending ??= load().catch((error: unknown) => {
      pending = null;
      throw error;
    }));
}

function renderPage(dir: string, options: GraphiQLOptions): string {
  const title = escapeHtml(options.title ?? 'GraphiQL');
  // A JSON data block is not script: the CSP does not have to allow it. `<` is escaped so no value
  // can close the element.
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="${dir}favicon.ico">
<link rel="stylesheet" href="${dir}graphiql.css">
</head>
<body id="body" class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<div id="root"></div>
<script type="application/json" id="graphiql-options">${json}</script>
<script src="${dir}boot.js"></script>
<script src="${dir}graphiql.js"></script>
</body>
</html>
`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
