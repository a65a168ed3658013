import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, rawRequest, requestHead } from './helpers/raw-http.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Issue #10, finding 10: `Host: a b` was answered 500 by the HTTP adapter with a stack trace
// (install paths included) and none of the security headers. Requests Node itself cannot parse
// got Node's bare 400. Every answer is now a documented error with the security headers.

let app: TestApp;
beforeAll(async () => {
  // Production shape: https PUBLIC_URL (so HSTS is due), SECRET set, OWASP argon2 parameters.
  app = await startTestApp({
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://auth.example.test',
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
  });
});
afterAll(() => app.close());

const DOCUMENTED = ['BAD_REQUEST', 'NOT_FOUND', 'REQUEST_TIMEOUT'];

function expectMaskedError(res: RawResponse, status: number) {
  expect(res.status).toBe(status);
  // No stack frames, file paths or module names: the body is one documented error.
  expect(res.raw).not.toMatch(/\bat \S+ \(|node_modules|\/work\/|\.ts:\d|\.js:\d|Error:|TypeError|stack/i);
  const body = JSON.parse(res.body) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors).toHaveLength(1);
  expect(DOCUMENTED).toContain(body.errors[0]?.extensions.code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('a malformed Host header', () => {
  it.each(['a b', 'exa mple.com', 'a/b', 'a@b', 'a\\b', '[::1', '1.2.3.999', '%41', '<script>', 'host:port', 'localhost:99999999', ''])(
    'Host: %j gets 400 BAD_REQUEST with the security headers and no stack',
    async (host) => {
      for (const [method, path] of [
        ['GET', '/graphql'],
        ['POST', '/graphql'],
        ['GET', '/health'],
        ['GET', '/.well-known/jwks.json'],
        ['GET', '/nowhere'],
      ] as const) {
        const body = method === 'POST' ? JSON.stringify({ query: '{ __typename }' }) : '';
        const extra: Record<string, string> =
          method === 'POST' ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {};
        const res = await rawRequest(app.url, requestHead(method, path, extra, host), body);
        expectMaskedError(res, 400);
      }
    },
  );

  it('no Host at all on HTTP/1.1 gets the same answer', async () => {
    const res = await rawRequest(app.url, 'GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectMaskedError(res, 400);
  });

  it('a well-formed Host still works, with a port and as an IP literal', async () => {
    for (const host of ['auth.example.test', 'auth.example.test:443', '127.0.0.1:4000', '[::1]:4000', 'gate_house']) {
      const res = await rawRequest(app.url, requestHead('GET', '/health', {}, host));
      expect(res.status).toBe(200);
    }
  });
});

describe('a request Node cannot parse', () => {
  it.each([
    ['a garbage request line', 'GARBAGE\r\n\r\n'],
    ['an unknown HTTP version', 'GET /graphql HTTP/9.9\r\nHost: localhost\r\n\r\n'],
    ['a header without a colon', 'GET /graphql HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n'],
    ['a space in a header name', 'GET /graphql HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n'],
    ['a control character in a header value', 'GET /graphql HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0001b\r\n\r\n'],
    ['a space in the target', 'GET /gra phql HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    [
      'Content-Length and Transfer-Encoding together',
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['two different Content-Lengths', 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    [
      'a bad chunk size',
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
    ],
  ])('%s gets 400 BAD_REQUEST with the security headers', async (_label, request) => {
    expectMaskedError(await rawRequest(app.url, request), 400);
  });

  it('headers larger than Node accepts get 431 with the security headers', async () => {
    const res = await rawRequest(app.url, requestHead('GET', '/graphql', { 'x-big': 'a'.repeat(20_000) }));
    expectMaskedError(res, 431);
  });
});
