import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// A static server for the browser example: the page must come from the same site as Gatehouse
// (same host name, any port; or a sibling subdomain of the same registrable domain), and Gatehouse
// must list the page's origin in CORS_ORIGINS.

const DIR = import.meta.dirname;
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/gatehouse.js': { file: 'gatehouse.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface BrowserExampleOptions {
  /** Gatehouse's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  endpoint: string;
  host?: string;
  port?: number;
}

export async function startBrowserExample({ endpoint, host = '127.0.0.1', port = 0 }: BrowserExampleOptions) {
  const escaped = endpoint.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const headers = {
    // Scripts from this page only; fetches to Gatehouse only.
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src ${new URL(endpoint).origin}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  const server = createServer((req, res) => {
    const entry = FILES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!entry || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    let body = readFileSync(path.join(DIR, entry.file), 'utf8');
    if (entry.file === 'index.html') body = body.replace('{{GATEHOUSE_ENDPOINT}}', escaped);
    res.writeHead(200, { ...headers, 'content-type': entry.type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${actual}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// CORS_ORIGINS=http://127.0.0.1:5173 npm start, then:
// npx tsx examples/browser/server.ts http://127.0.0.1:4000/graphql   -> open http://127.0.0.1:5173/
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await startBrowserExample({ endpoint: process.argv[2] ?? 'http://127.0.0.1:4000/graphql', port: 5173 });
  console.log(`Browser example: ${url}`);
}
