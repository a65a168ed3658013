import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../src/db/client.ts';
import { startServerProcess } from './helpers/server-process.ts';
import { ADMIN_EMAIL, TEST_PASSWORD } from './helpers/test-app.ts';

// Audit events are written in batches after the response; a clean shutdown (SIGTERM) right after
// the action must still write them (AuditLog.close, run by the server's shutdown).
const db = createDatabase(inject('databaseUrl'), 1);
afterAll(() => db.$disconnect());

describe('audit log and shutdown', () => {
  it('keeps the events of a login answered just before SIGTERM', async () => {
    const server = await startServerProcess({ LOG_LEVEL: 'warn' });
    try {
      const since = new Date(Date.now() - 1000);
      const userAgent = `ShutdownAudit/${Date.now()}`;
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body: JSON.stringify({
          query: 'mutation($e: String!, $p: String!) { ok: login(email: $e, password: $p) { expiresIn } }',
          variables: { e: ADMIN_EMAIL, p: TEST_PASSWORD },
        }),
      });
      const failed = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body: JSON.stringify({
          query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { expiresIn } }',
          variables: { e: ADMIN_EMAIL, p: 'not the password' },
        }),
      });
      expect(res.status).toBe(200);
      expect(failed.status).toBe(200);
      expect(await server.stop('SIGTERM')).toBe(0);

      const events = await db.authEvent.findMany({ where: { userAgent, createdAt: { gte: since } }, orderBy: { createdAt: 'asc' } });
      expect(events.map((e) => [e.type, e.outcome])).toEqual([
        ['login.succeeded', 'success'],
        ['login.failed', 'failure'],
      ]);
    } finally {
      await server.cleanup();
    }
  }, 120_000);
});
