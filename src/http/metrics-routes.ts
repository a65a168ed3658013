import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../metrics/metrics.ts';
import { errorResponse } from './error-response.ts';
import type { FixedRoute } from './router.ts';

export const METRICS_PATH = '/metrics';

async function render(metrics: Metrics): Promise<Response> {
  return new Response(await metrics.registry.metrics(), {
    status: 200,
    headers: { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' },
  });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `/metrics` on the main port: only with METRICS_TOKEN set (the caller leaves the route out
 * otherwise, so it is a 404), and only to `Authorization: Bearer <token>`, compared in constant
 * time (of equal-length digests, so not even the length leaks).
 */
export function metricsRoutes(metrics: Metrics, token: string | null): [string, FixedRoute][] {
  if (!token) return [];
  const expected = digest(token);
  const route: FixedRoute = (req) => {
    const match = /^Bearer ([^\s]{1,4096})$/.exec(req.headers.authorization?.trim() ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      return errorResponse(401, 'UNAUTHENTICATED', { accept: req.headers.accept, headers: { 'www-authenticate': 'Bearer' } });
    }
    return render(metrics);
  };
  return [[METRICS_PATH, route]];
}

/**
 * METRICS_PORT: a second listener, on 127.0.0.1 only, that serves `/metrics` without a token (to a
 * scraper or agent on the same host) and nothing else.
 */
export async function startMetricsListener(metrics: Metrics, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) =>
        res
          .writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
