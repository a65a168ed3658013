import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendNodeResponse } from '@whatwg-node/server';
import { isDatabaseUnavailable } from '../db/errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { type RequestInfo, requestIdFrom, requestStore } from '../log/request-info.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { errorBody, errorResponse } from './error-response.ts';
import { applySecurityHeaders, type SecurityHeaders } from './headers.ts';
import { RETRY_AFTER_SECONDS } from './mask-error.ts';

/**
 * A fixed resource: answers GET (and HEAD, without the body); it never reads a request body. It
 * may read the headers (content negotiation) and answer later (a file loaded on first use).
 */
export type FixedRoute = (req: IncomingMessage) => Response | Promise<Response>;

export interface RouterOptions {
  /** The one pathname GraphQL is served at. */
  graphqlPath: string;
  /** The GraphQL server (Yoga), handed only requests for exactly `graphqlPath`. */
  graphql: (req: IncomingMessage, res: ServerResponse) => Response | Promise<Response>;
  /** Every other pathname that is served, by exact pathname. */
  routes: ReadonlyMap<string, FixedRoute>;
  security: SecurityHeaders;
  logger: Logger;
  /** True once shutdown has begun: every response then closes its connection (`Connection: close`). */
  draining?: () => boolean;
  /** Counts requests by route and status, and their latency. */
  metrics?: Metrics;
}

export interface Router {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** For node:http's `clientError`: requests Node could not parse get a documented answer too. */
  handleClientError(error: Error & { code?: string }, socket: Duplex): void;
}

// What a Host header may be: a DNS name, an IPv4 address or a bracketed IPv6 address, and a port.
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The front of the service. Requests are routed by their pathname exactly as sent: no decoding,
 * no dot-segment removal, case-sensitive, the query string ignored. `/graphql` goes to GraphQL;
 * a fixed route answers GET/HEAD; everything else is a 404. So no path but `/graphql` can run an
 * operation, and the CSRF check, no-store and cookie handling (which live in the GraphQL server)
 * apply to every operation. Every response, errors included, leaves through one place that sets
 * the security headers; nothing a handler throws reaches the client beyond a masked error.
 */
export function createRouter(options: RouterOptions): Router {
  const { graphqlPath, routes, security, logger } = options;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<Response> {
    const accept = req.headers.accept;
    const host = req.headers.host;
    // HTTP/1.1 requires Host; a malformed one would otherwise make the request URL unparsable.
    if (host === undefined ? req.httpVersion !== '1.0' : !isValidHost(host)) return errorResponse(400, 'BAD_REQUEST', { accept });
    const target = req.url ?? '';
    // Origin-form only (`/path?query`): absolute-form and `*` name nothing served here.
    if (!target.startsWith('/')) return errorResponse(404, 'NOT_FOUND', { accept });
    const queryStart = target.indexOf('?');
    const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
    if (pathname === graphqlPath) return options.graphql(req, res);
    const fixed = routes.get(pathname);
    if (!fixed) return errorResponse(404, 'NOT_FOUND', { accept });
    if (req.method === 'GET') return fixed(req);
    if (req.method === 'HEAD') {
      const response = await fixed(req);
      return new Response(null, { status: response.status, headers: response.headers });
    }
    return errorResponse(405, 'METHOD_NOT_ALLOWED', { accept, headers: { allow: 'GET, HEAD' } });
  }

  /** The metrics' route label: a served path, or "other" (so a scan of random paths adds no series). */
  function routeOf(req: IncomingMessage): string {
    const target = req.url ?? '';
    const queryStart = target.indexOf('?');
    const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
    return pathname === graphqlPath || routes.has(pathname) ? pathname : 'other';
  }

  /**
   * One `info` line per request, after its response: method, path (never the query string, which
   * may hold a GET's document or a reset token), status, duration, GraphQL operation name, request
   * id and signed-in user. Never a body, variables or document.
   */
  function logRequest(req: IncomingMessage, res: ServerResponse, info: RequestInfo, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(req);
    const method = METHODS.has(req.method ?? '') ? (req.method as string) : 'other';
    options.metrics?.httpRequests.inc({ route, method, status: String(res.statusCode) });
    options.metrics?.httpDuration.observe({ route }, seconds);
    if (!logger.isLevelEnabled('info')) return;
    const target = req.url ?? '';
    const queryStart = target.indexOf('?');
    logger.info(
      {
        method: req.method,
        path: (queryStart === -1 ? target : target.slice(0, queryStart)).slice(0, 200),
        status: res.statusCode,
        durationMs: Math.round(seconds * 10_000) / 10,
        ...(info.operationName ? { operation: info.operationName } : {}),
        ...(info.userId ? { userId: info.userId } : {}),
      },
      'request',
    );
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let response: Response;
    try {
      response = await route(req, res);
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        logger.warn({ err: error }, 'database unavailable');
        response = errorResponse(503, 'SERVICE_UNAVAILABLE', {
          accept: req.headers.accept,
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
        });
      } else {
        logger.error({ err: error }, 'unexpected error while handling a request');
        response = errorResponse(500, 'INTERNAL_SERVER_ERROR', { accept: req.headers.accept });
      }
    }
    applySecurityHeaders(response.headers, security);
    const info = requestStore.getStore();
    if (info && !response.headers.has('x-request-id')) response.headers.set('x-request-id', info.requestId);
    // During shutdown a kept-alive connection ends with this response, so the client opens its
    // next request elsewhere instead of racing our close of an idle connection.
    if (options.draining?.() && !res.headersSent) res.setHeader('connection', 'close');
    // Answered before its body was read to the end (a refusal such as REQUEST_TOO_LARGE): the rest
    // of that body still sits on the connection, and nothing will read it once the body stream was
    // abandoned, so a next request there would never be read (and the keep-alive timeout would
    // reset it). The connection ends with this response instead, as RFC 9112 (section 9.3) asks of
    // a server that does not read a whole body; the rest is not read on the sender's behalf.
    if (!req.complete && !res.headersSent) res.setHeader('connection', 'close');
    await sendNodeResponse(response, res, req, false);
  }

  return {
    handleRequest(req, res) {
      const started = performance.now();
      const info: RequestInfo = { requestId: requestIdFrom(req.headers['x-request-id']) };
      // 'close' comes after the response was sent, and also when the client went away before it.
      res.once('close', () => requestStore.run(info, () => logRequest(req, res, info, started)));
      requestStore
        .run(info, () => respond(req, res))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'could not send a response');
          if (!res.headersSent) {
            if (options.draining?.()) res.setHeader('connection', 'close');
            res.setHeader('x-request-id', info.requestId);
            res.writeHead(500, rawErrorHeaders(security)).end(errorBody('INTERNAL_SERVER_ERROR'));
          } else {
            res.destroy();
          }
        });
    },

    handleClientError(error, socket) {
      // Nothing to answer on a connection that is gone, or whose response has begun.
      const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
      if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
        socket.destroy();
        return;
      }
      const [status, code]: [number, ErrorCode] =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'BAD_REQUEST']
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'REQUEST_TIMEOUT']
            : [400, 'BAD_REQUEST'];
      const body = errorBody(code);
      const headers = Object.entries({ ...rawErrorHeaders(security), 'content-length': String(Buffer.byteLength(body)) })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n${headers}connection: close\r\n\r\n${body}`);
    },
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function rawErrorHeaders(security: SecurityHeaders): Record<string, string> {
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  applySecurityHeaders(headers, security);
  return Object.fromEntries(headers);
}

function isValidHost(host: string): boolean {
  if (!HOST.test(host)) return false;
  try {
    // What the HTTP adapter will build the request URL from (it refuses e.g. 1.2.3.999).
    new URL(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}
