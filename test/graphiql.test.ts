import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log/logger.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// What the browser test (browser.test.ts) proves in Chromium, checked here over HTTP: the page
// and every file it needs come from this server, under a CSP that names no other host.

let app: TestApp;
// The same services behind a second listener, with GRAPHIQL=false.
let off: { url: string; server: Server };
beforeAll(async () => {
  app = await startTestApp();
  const router = createApp({ config: { ...app.config, graphiql: false }, services: app.services, logger: createLogger('silent') });
  const server = createServer((req, res) => router.handleRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  off = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
});
afterAll(async () => {
  await new Promise((resolve) => off?.server.close(resolve));
  await app?.close();
});

const openPage = (target: { url: string }, path = '/graphql') => fetch(`${target.url}${path}`, { headers: { accept: 'text/html' } });

async function assetPaths(): Promise<string[]> {
  const html = await (await openPage(app)).text();
  return [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] ?? '');
}

describe('GraphiQL', () => {
  it('is a page with no inline script, under a CSP of this origin only and without unsafe-eval', async () => {
    const res = await openPage(app);
    expect(res.status).toBe(200);
    const html = await res.text();
    // Every <script> either names a file or is a JSON data block, which the CSP need not allow.
    for (const [tag = ''] of html.matchAll(/<script[^>]*>/g))
      expect(tag).toMatch(/ src="\/graphiql\/[0-9a-f]+\/[\w.]+"| type="application\/json"/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/https?:|\*/);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves each file the page names from one versioned path: immutable, typed, gzip on request', async () => {
    const paths = await assetPaths();
    expect(paths.map((p) => p.replace(/^\/graphiql\/[0-9a-f]{16}\//, ''))).toEqual([
      'favicon.ico',
      'graphiql.css',
      'boot.js',
      'graphiql.js',
    ]);
    const types: Record<string, string> = { ico: 'image/x-icon', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };
    for (const path of paths) {
      const res = await fetch(`${app.url}${path}`, { headers: { 'accept-encoding': 'identity' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(types[path.split('.').pop() ?? '']);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('content-encoding')).toBeNull();
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const bundle = paths.find((p) => p.endsWith('/graphiql.js')) ?? '';
    const plain = Buffer.from(await (await fetch(`${app.url}${bundle}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    // fetch would decode the gzip itself: node:http hands over the bytes as sent.
    const zipped = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      request(`${app.url}${bundle}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(zipped.encoding).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.length / 2);
    expect(gunzipSync(zipped.body).equals(plain)).toBe(true);
    // The bundle loads its workers from the same directory.
    const boot = await (await fetch(`${app.url}${paths.find((p) => p.endsWith('/boot.js'))}`)).text();
    for (const worker of ['editor.worker.js', 'json.worker.js', 'graphql.worker.js']) {
      expect(boot).toContain(worker);
      const res = await fetch(`${app.url}${bundle.replace('graphiql.js', worker)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    }
  });

  it('answers HEAD without a body, 405 to other methods on a file, and 404 to any other path under /graphiql/', async () => {
    const [bundle = ''] = (await assetPaths()).filter((p) => p.endsWith('/graphiql.js'));
    const head = await fetch(`${app.url}${bundle}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await head.text()).toBe('');
    const post = await fetch(`${app.url}${bundle}`, { method: 'POST', body: '' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    for (const path of [bundle.replace(/\/[0-9a-f]{16}\//, '/0000000000000000/'), `${bundle}x`, '/graphiql/', '/graphiql']) {
      expect((await fetch(`${app.url}${path}`)).status, path).toBe(404);
    }
  });

  it('is served on the endpoint only, not on a path that merely ends with it', async () => {
    for (const path of ['/graphql/', '/x/graphql', '/x?a=/graphql']) {
      const res = await openPage(app, path);
      expect(res.headers.get('content-type') ?? '', path).not.toMatch(/text\/html/);
    }
  });

  it('can be turned off (GRAPHIQL=false): no page and no files', async () => {
    const res = await openPage(off);
    expect(res.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    for (const path of await assetPaths()) expect((await fetch(`${off.url}${path}`)).status).toBe(404);
  });

  it('is off by default in production', () => {
    const production = { NODE_ENV: 'production', SECRET: 's'.repeat(40), PUBLIC_URL: 'https://auth.example.test' };
    expect(loadConfig(production).graphiql).toBe(false);
    expect(loadConfig({ ...production, GRAPHIQL: 'true' }).graphiql).toBe(true);
  });
});
