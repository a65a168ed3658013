import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RefreshDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp } from './helpers/test-app.ts';

const TOKEN = 'metrics-token-metrics-token-metrics-token-0123';

let app: TestApp;
let plain: TestApp;
beforeAll(async () => {
  [app, plain] = await Promise.all([startTestApp({ METRICS_TOKEN: TOKEN, METRICS_PORT: '0' }), startTestApp()]);
});
afterAll(() => Promise.all([app.close(), plain.close()]));

const scrape = async (target = app) => {
  const res = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
};

/** The value of one series, e.g. value(text, 'gatehouse_auth_events_total{type="login.succeeded",outcome="success"}'). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics on the main port', () => {
  it('is not served without METRICS_TOKEN (404)', async () => {
    const res = await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });

  it('answers 401 without the token or with a wrong one, never the metrics', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await fetch(`${app.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = await res.text();
      expect(JSON.parse(body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body).not.toContain('gatehouse_');
    }
  });

  it('serves the Prometheus text format with the token, and a login and a refresh move the counters', async () => {
    const user = await registerUser(app);
    const before = await scrape();
    const login = await app.client.request(LoginDocument, { email: user.email, password: TEST_PASSWORD, mode: 'JSON' });
    await app.client.request(LoginDocument, { email: user.email, password: 'wrong password here', mode: 'JSON' });
    await app.client.request(RefreshDocument, { refreshToken: login.data!.login.refreshToken!, mode: 'JSON' });
    const after = await scrape();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('gatehouse_auth_events_total{type="login.succeeded",outcome="success"}')).toBe(1);
    expect(moved('gatehouse_auth_events_total{type="login.failed",outcome="failure"}')).toBe(1);
    expect(moved('gatehouse_login_failures_total{reason="bad_credentials"}')).toBe(1);
    expect(moved('gatehouse_auth_events_total{type="token.refreshed",outcome="success"}')).toBe(1);
    expect(moved('gatehouse_graphql_operations_total{operation="Login",type="mutation",outcome="success"}')).toBe(1);
    expect(moved('gatehouse_graphql_operations_total{operation="Login",type="mutation",outcome="error"}')).toBe(1);
    expect(moved('gatehouse_http_requests_total{route="/graphql",method="POST",status="200"}')).toBeGreaterThanOrEqual(3);
    expect(after).toContain('gatehouse_http_request_duration_seconds_bucket{le="0.005",route="/graphql"}');
    for (const name of [
      'gatehouse_password_hash_queue_depth{lane="standard"}',
      'gatehouse_password_hash_in_flight{lane="priority"}',
      'gatehouse_password_hash_refused_total',
      'gatehouse_db_pool_connections{state="max"}',
      'gatehouse_outbox_pending',
      'gatehouse_process_resident_memory_bytes',
    ]) {
      expect(after.split('\n').some((l) => l.startsWith(`${name} `))).toBe(true);
    }
    expect(after).toMatch(/^gatehouse_password_hash_wait_seconds_count\{lane="standard"\} \d+/m);
    expect(after).toMatch(/^gatehouse_active_sessions \d+/m);
    expect(value(after, 'gatehouse_db_pool_connections{state="max"}')).toBe(4);
  });

  it('keeps label values bounded: unknown paths are "other", operation names beyond the first 100 are "other"', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${app.url}/scan-${i}-${Date.now()}`);
    await Promise.all(Array.from({ length: 110 }, (_, i) => app.client.raw({ query: `query Op${i}_${Date.now()} { __typename }` })));
    await app.client.raw({ query: 'query { __typename }' });
    const text = await scrape();
    expect(text).not.toMatch(/route="\/scan-/);
    expect(value(text, 'gatehouse_http_requests_total{route="other",method="GET",status="404"}')).toBeGreaterThanOrEqual(5);
    const names = new Set([...text.matchAll(/gatehouse_graphql_operations_total\{operation="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(102); // 100 names, "anonymous" and "other"
    expect(names.has('other')).toBe(true);
    expect(names.has('anonymous')).toBe(true);
    // No user data in any label.
    expect(text).not.toMatch(/@example\.test|127\.0\.0\.1/);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics without a token on 127.0.0.1 only, and nothing else there', async () => {
    expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(app.metricsUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('gatehouse_http_requests_total');
    expect((await fetch(app.metricsUrl!.replace('/metrics', '/graphql'))).status).toBe(404);
  });
});
