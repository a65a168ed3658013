import { createHash } from 'node:crypto';
import { type GraphiQLOptions, renderGraphiQL } from 'graphql-yoga';

export interface GraphiQLPage {
  html: string;
  csp: string;
}

const CDN_BASE = /https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[\w.-]+\//;
const INLINE_SCRIPT = /<script>([\s\S]*?)<\/script>/g;

/**
 * Yoga's GraphiQL page, rendered once, with a Content-Security-Policy made for exactly that page:
 * its inline scripts by hash, scripts, styles and Monaco's workers only from the pinned version
 * of @graphql-yoga/graphiql on the CDN it names, no framing, no forms, no base tag.
 * 'unsafe-eval' stays because GraphiQL's bundles have needed it (this could not be checked in a
 * browser here, with no network to the CDN); with every script source pinned, nothing else can
 * run to use it. Style attributes are inline by Monaco's design, hence 'unsafe-inline' for styles.
 */
export function prepareGraphiQL(options: GraphiQLOptions): GraphiQLPage {
  const html = String(renderGraphiQL(options));
  const cdn = CDN_BASE.exec(html)?.[0] ?? 'https://unpkg.com/';
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map((m) => hashSource(m[1] ?? ''));
  const csp = [
    "default-src 'none'",
    `script-src ${[...hashes, cdn, "'unsafe-eval'"].join(' ')}`,
    `style-src ${cdn} 'unsafe-inline'`,
    `font-src ${cdn} data:`,
    "img-src 'self' data: https://raw.githubusercontent.com/graphql-hive/graphql-yoga/",
    // The page fetches Monaco's worker sources from the CDN and runs them as blob: workers.
    `connect-src 'self' ${cdn}`,
    'worker-src blob:',
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
  return { html, csp };
}

const hashSource = (script: string) => `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
