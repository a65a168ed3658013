import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestPasswordResetDocument, ViewerDocument } from './generated/graphql.ts';
import { registerAndLogin } from './helpers/factories.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
const lines: string[] = [];
beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  app = await startTestApp({ LOG_LEVEL: 'info' }, { logDestination: destination });
});
afterAll(() => app.close());

type Line = Record<string, unknown>;

/** The request log line carrying `requestId` (written once the response has gone out). */
async function requestLine(requestId: string): Promise<Line> {
  for (let i = 0; i < 50; i++) {
    const found = lines.map((l) => JSON.parse(l) as Line).find((l) => l.msg === 'request' && l.requestId === requestId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no request line for ${requestId}`);
}

describe('request log', () => {
  it('writes one info line per request with method, path, status, duration, operation and request id, echoing X-Request-Id', async () => {
    const res = await app.client.raw(
      {
        query: 'mutation SignIn($e: String!, $p: String!) { login(email: $e, password: $p) { expiresIn } }',
        variables: { e: 'x@example.test', p: 'hunter2-secret-value' },
      },
      { headers: { 'x-request-id': 'trace-abc.123' } },
    );
    expect(res.code).toBe('INVALID_CREDENTIALS');
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    const line = await requestLine('trace-abc.123');
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'SignIn',
      requestId: 'trace-abc.123',
    });
    expect(typeof line.durationMs).toBe('number');
    expect(line.userId).toBeUndefined();
    expect(lines.filter((l) => l.includes('"trace-abc.123"') && l.includes('"msg":"request"'))).toHaveLength(1);
    const all = lines.join('');
    expect(all).not.toContain('hunter2-secret-value');
    expect(all).not.toContain('x@example.test');
  });

  it('names the signed-in user, and never logs the query string of a GET', async () => {
    const user = await registerAndLogin(app);
    const res = await app.client.request(ViewerDocument, {}, { token: user.accessToken, headers: { 'x-request-id': 'viewer-req-1' } });
    expect(res.errors).toBeUndefined();
    expect(await requestLine('viewer-req-1')).toMatchObject({ userId: user.id, operation: 'Viewer', status: 200 });

    const query = encodeURIComponent('query Leak { __typename } # secret-in-query-string');
    const get = await fetch(`${app.url}/graphql?query=${query}`, {
      headers: { 'x-request-id': 'get-req-1', 'apollo-require-preflight': 'true' },
    });
    expect(get.headers.get('x-request-id')).toBe('get-req-1');
    const line = await requestLine('get-req-1');
    expect(line).toMatchObject({ method: 'GET', path: '/graphql' });
    expect(lines.join('')).not.toContain('secret-in-query-string');
  });

  it('replaces an X-Request-Id that is too long or not plain with a fresh id, on every route', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(200), 'new\\nline']) {
      const res = await fetch(`${app.url}/livez`, { headers: { 'x-request-id': sent } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await requestLine(id!)).toMatchObject({ method: 'GET', path: '/livez', status: 200 });
    }
    const missing = await fetch(`${app.url}/nope?token=abc-secret-token`);
    expect(missing.status).toBe(404);
    const line = await requestLine(missing.headers.get('x-request-id')!);
    expect(line).toMatchObject({ path: '/nope', status: 404 });
    expect(lines.join('')).not.toContain('abc-secret-token');
  });

  it('tags the other lines a request causes with its request id', async () => {
    await app.client.request(
      RequestPasswordResetDocument,
      { email: 'nobody-here@example.test' },
      { headers: { 'x-request-id': 'tagged-1' } },
    );
    await app.services.background.drain();
    const tagged = lines.map((l) => JSON.parse(l) as Line).filter((l) => l.requestId === 'tagged-1');
    expect(tagged.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['request', 'password reset requested for an address without an active account']),
    );
  });
});
