import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Issue #10: "Did you mean ...?" was hidden for field names only; enum values (`SESSION`),
// arguments, types and input fields were still suggested in production, where introspection is
// off, so anyone could map the schema from error messages.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://auth.example.test',
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
  });
});
afterAll(() => app.close());

const login = (args: string) => `mutation { login(${args}) { accessToken } }`;

describe('in production, no error suggests a name', () => {
  it.each([
    ['a field', { query: '{ viewr { id } }' }, '"viewer"'],
    ['a field of a type', { query: '{ viewer { emial } }' }, '"email"'],
    ['an argument', { query: login('emial: "a@b.c", password: "x"') }, '"email"'],
    ['a type of a variable', { query: 'query($m: AuthMod) { __typename }' }, '"AuthMode"'],
    ['a type condition', { query: '{ viewer { ... on Usr { id } } }' }, '"User"'],
    ['an enum value literal', { query: login('email: "a@b.c", password: "x", mode: SESSIO') }, 'SESSION'],
    ['an enum value in a string literal', { query: login('email: "a@b.c", password: "x", mode: "SESSIO"') }, 'SESSION'],
    [
      'an enum value in variables',
      {
        query: 'mutation($m: AuthMode) { login(email: "a@b.c", password: "x", mode: $m) { accessToken } }',
        variables: { m: 'SESSIO' },
      },
      'SESSION',
    ],
    ['an input field literal', { query: 'mutation { createUser(input: { emial: "a@b.c", password: "x" }) { id } }' }, '"email"'],
    [
      'an input field in variables',
      {
        query: 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }',
        variables: { i: { emial: 'a@b.c', email: 'a@b.c', password: 'x' } },
      },
      '"email"',
    ],
  ])('%s', async (_label, body, suggestion) => {
    const res = await app.client.raw(body);
    expect(res.errors?.length).toBeGreaterThan(0);
    const text = JSON.stringify(res.errors);
    expect(text).not.toMatch(/did you mean/i);
    expect(text).not.toContain(suggestion);
    expect(res.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
