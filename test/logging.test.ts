import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from './helpers/factories.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Issue #10, finding 7: at LOG_LEVEL=debug, GraphQL errors were logged with the document's
// source, so a password written inline (as in the README's curl examples) reached the log.

let app: TestApp;
let email: string;
const lines: string[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  app = await startTestApp({ LOG_LEVEL: 'debug' }, { logDestination: destination });
  email = (await registerUser(app)).email;
});
afterAll(() => app.close());

const post = (body: unknown) =>
  fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Sends `body`, waits for the server's log lines of that request, and returns what they say. */
async function logOf(body: unknown): Promise<string> {
  const from = lines.length;
  const res = await post(body);
  expect(res.status).toBeLessThan(500);
  await res.text();
  // The debug lines of a request are written before its response; give the stream a turn anyway.
  await new Promise((resolve) => setImmediate(resolve));
  return lines.slice(from).join('');
}

/**
 * Absent also from GraphQL's printed source excerpts, which wrap long lines at 80 columns
 * (`… password: "Inline-\n  | Pa55word…`): compared with line breaks, gutters and spaces removed.
 */
function expectAbsent(log: string, secret: string) {
  expect(log).not.toContain(secret);
  expect(log.replace(/\\n|[\s|]/g, '')).not.toContain(secret.replace(/\s/g, ''));
}

describe('at LOG_LEVEL=debug the log', () => {
  it('never holds malformed JSON of a GET (its parser quotes the input), which answers BAD_REQUEST 400', async () => {
    const secret = 'hunter2-staple-in-variables';
    for (const param of ['variables', 'extensions']) {
      const from = lines.length;
      const url = new URL(`${app.url}/graphql`);
      url.searchParams.set('query', '{ __typename }');
      url.searchParams.set(param, `{"password": ${secret}}`);
      const res = await fetch(url, { headers: { 'x-graphql-csrf': '1', accept: 'application/json' } });
      expect(res.status).toBe(400);
      const body = await res.text();
      expect(JSON.parse(body).errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(body).not.toContain(secret);
      await new Promise((resolve) => setImmediate(resolve));
      expectAbsent(lines.slice(from).join(''), secret);
    }
  });

  it('never holds a password written inline in a failing login', async () => {
    const password = 'Inline-Pa55word-in-the-document';
    const log = await logOf({ query: `mutation { login(password: "${password}", email: "${email}") { accessToken } }` });
    expectAbsent(log, password);
    // The failure itself is logged (at debug), by its code, so the capture works.
    expect(log).toContain('INVALID_CREDENTIALS');
  });

  it.each([
    ['a syntax error next to it', (p: string) => ({ query: `mutation { login(email: "a@b.c", password: "${p}" { accessToken } }` })],
    ['a syntax error on it', (p: string) => ({ query: `mutation { login(email: "a@b.c", password: ${p}) { accessToken } }` })],
    ['a validation error', (p: string) => ({ query: `mutation { login(email: "a@b.c", password: "${p}", extra: 1) { accessToken } }` })],
    ['a wrong literal type', (p: string) => ({ query: `mutation { login(email: "a@b.c", password: "x", mode: "${p}") { accessToken } }` })],
    [
      'a variable that does not coerce',
      (p: string) => ({
        query: 'mutation($e: String!, $p: String!, $m: AuthMode) { login(email: $e, password: $p, mode: $m) { accessToken } }',
        variables: { e: 'a@b.c', p, m: p },
      }),
    ],
    [
      'a wrong password in variables',
      (p: string) => ({
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        variables: { e: email, p },
      }),
    ],
  ])('never holds the password after %s', async (_label, body) => {
    const password = `Secret${Math.random().toString(36).slice(2)}Value`;
    const log = await logOf(body(password));
    expect(log.length).toBeGreaterThan(0);
    expectAbsent(log, password);
  });
});
