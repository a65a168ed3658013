import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAsAdmin, registerUser } from './helpers/factories.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const login = (email: string, alias = '') =>
  `${alias ? `${alias}: ` : ''}login(email: "${email}", password: "${TEST_PASSWORD}") { expiresIn }`;
const createUser = (email: string, alias = '') =>
  `${alias ? `${alias}: ` : ''}createUser(input: { email: "${email}", password: "${TEST_PASSWORD}" }) { id }`;

async function sessionsOf(email: string) {
  return app.db.session.count({ where: { user: { email } } });
}

describe('a sensitive mutation named twice in one document', () => {
  it.each([
    ['aliases', (e: string) => `mutation { ${login(e, 'a')} ${login(e, 'b')} }`],
    ['an alias beside the plain field', (e: string) => `mutation { ${login(e)} ${login(e, 'again')} }`],
    ['a fragment spread twice', (e: string) => `mutation { ...L ...L } fragment L on Mutation { ${login(e)} }`],
    ['a fragment beside the field', (e: string) => `mutation { ${login(e)} ...L } fragment L on Mutation { ${login(e, 'x')} }`],
    ['inline fragments', (e: string) => `mutation { ... on Mutation { ${login(e)} } ... { ${login(e, 'x')} } }`],
    [
      'nested fragments',
      (e: string) => `mutation { ...A } fragment A on Mutation { ${login(e)} ...B } fragment B on Mutation { ... { ${login(e, 'y')} } }`,
    ],
    ['skip directives', (e: string) => `mutation { ${login(e)} b: login(email: "${e}", password: "x") @skip(if: true) { expiresIn } }`],
  ])('is refused at validation when repeated through %s, and nothing runs', async (_label, document) => {
    const user = await registerUser(app);
    const res = await app.client.raw({ query: document(user.email) });
    expect(res.code).toBe('SENSITIVE_FIELD_REPEATED');
    expect(res.errors?.[0]?.extensions?.field).toBe('login');
    expect(res.data).toBeNull();
    expect(await sessionsOf(user.email)).toBe(0);
  });

  it('creates no user when createUser is aliased fifty times', async () => {
    const emails = Array.from({ length: 50 }, () => uniqueEmail('alias'));
    const res = await app.client.raw({ query: `mutation { ${emails.map((e, i) => createUser(e, `u${i}`)).join(' ')} }` });
    // The alias limit or the once-only rule: either way a validation error and no resolver.
    expect(['SENSITIVE_FIELD_REPEATED', 'QUERY_TOO_MANY_ALIASES']).toContain(res.code);
    expect(res.errors?.map((e) => e.extensions?.code)).toContain('SENSITIVE_FIELD_REPEATED');
    expect(await app.db.user.count({ where: { email: { in: emails } } })).toBe(0);
  });

  it('still allows one of each, and one through a fragment', async () => {
    const user = await registerUser(app);
    const res = await app.client.raw({ query: `mutation { ...L } fragment L on Mutation { ${login(user.email, 'signIn')} }` });
    expect(res.errors).toBeUndefined();
    expect(await sessionsOf(user.email)).toBe(1);
    const two = await app.client.raw({
      query: `mutation { ${login(user.email)} requestPasswordReset(email: "${user.email}") }`,
    });
    expect(two.errors).toBeUndefined();
  });

  it('counts per operation: two operations that each name it once are fine', async () => {
    const user = await registerUser(app);
    const res = await app.client.raw({
      query: `mutation A { ${login(user.email)} } mutation B { ${login(user.email)} }`,
      operationName: 'B',
    });
    expect(res.errors).toBeUndefined();
    expect(await sessionsOf(user.email)).toBe(1);
  });
});

describe('array batching', () => {
  it('is refused with BATCHING_NOT_SUPPORTED and runs nothing', async () => {
    const emails = [uniqueEmail('batch'), uniqueEmail('batch')];
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(emails.map((email) => ({ query: `mutation { ${createUser(email)} }` }))),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BATCHING_NOT_SUPPORTED');
    expect(body.data).toBeUndefined();
    expect(await app.db.user.count({ where: { email: { in: emails } } })).toBe(0);
  });

  it('is refused even for an array of one', async () => {
    const email = uniqueEmail('batch');
    const res = await app.client.raw([{ query: `mutation { ${createUser(email)} }` }]);
    expect(res.status).toBe(400);
    expect(res.code).toBe('BATCHING_NOT_SUPPORTED');
    expect(await app.db.user.count({ where: { email } })).toBe(0);
  });
});

describe('query limits', () => {
  let tight: TestApp;
  beforeAll(async () => {
    tight = await startTestApp({
      GRAPHQL_MAX_DEPTH: '2',
      GRAPHQL_MAX_ALIASES: '2',
      GRAPHQL_MAX_TOKENS: '40',
      GRAPHQL_MAX_DIRECTIVES: '2',
      GRAPHQL_MAX_COST: '10',
      GRAPHQL_INTROSPECTION: 'false',
    });
  });
  afterAll(() => tight.close());

  it.each([
    ['QUERY_TOO_DEEP', `mutation { login(email: "a@example.test", password: "x") { user { id } } }`],
    ['QUERY_TOO_MANY_ALIASES', '{ a: viewer { id } b: viewer { id } c: viewer { id } }'],
    ['QUERY_TOO_MANY_TOKENS', `{ viewer { ${'id '.repeat(40)}} }`],
    ['QUERY_TOO_MANY_DIRECTIVES', '{ viewer @skip(if: false) { id @skip(if: false) email @skip(if: false) } }'],
    ['QUERY_TOO_COSTLY', '{ viewer { id email firstName lastName status createdAt } }'],
    ['INTROSPECTION_DISABLED', '{ __schema { queryType { name } } }'],
    ['INTROSPECTION_DISABLED', '{ __type(name: "User") { name } }'],
    ['INTROSPECTION_DISABLED', '{ _service { sdl } }'],
  ])('refuses with %s before anything runs', async (code, query) => {
    const res = await tight.client.raw({ query });
    expect(res.errors?.map((e) => e.extensions?.code)).toContain(code);
    expect(res.data).toBeNull();
    expect(JSON.stringify(res.errors)).not.toMatch(/Syntax Error|armor|stack/i);
  });

  it('lets a query within every limit through, __typename included', async () => {
    const res = await tight.client.raw({ query: '{ __typename viewer { id } }' });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ __typename: 'Query', viewer: null });
  });

  it('does not suggest field names', async () => {
    const res = await tight.client.raw({ query: '{ viewer { emial } }' });
    expect(res.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).not.toMatch(/Did you mean|email/);
  });

  it('keeps the defaults loose enough for GraphiQL: the full introspection query passes where it is on', async () => {
    const res = await app.client.raw({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) });
    expect(res.errors).toBeUndefined();
    expect(res.data).toHaveProperty('__schema');
  });
});

describe('the default cost limit', () => {
  // A page of users is documented as up to 100: a full page with every scalar, the role and the
  // policies must pass on the default settings, while the same page asked for twice must not.
  const page = (alias = '') =>
    `${alias ? `${alias}: ` : ''}users(first: 100) { edges { cursor node { id email firstName lastName status createdAt role { id name } policies { id name } } } pageInfo { hasNextPage endCursor } }`;

  it('lets the largest documented page through', async () => {
    const token = await loginAsAdmin(app);
    const res = await app.client.raw({ query: `{ ${page()} }` }, { token });
    expect(res.errors).toBeUndefined();
    expect((res.data as { users: { edges: unknown[] } }).users.edges.length).toBeGreaterThan(0);
  });

  it('refuses two such pages in one document with QUERY_TOO_COSTLY', async () => {
    const token = await loginAsAdmin(app);
    const res = await app.client.raw({ query: `{ ${page('a')} ${page('b')} }` }, { token });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    expect(res.data).toBeNull();
  });

  // The same two pages with their size in a variable (`first: $n`): costed as the literal would be.
  const pageOf = (alias: string, size: string) => page(alias).replace('first: 100', `first: ${size}`);
  const twoPages = (definitions: string) => `query Two${definitions} { ${pageOf('a', '$n')} ${pageOf('b', '$n')} }`;

  it('costs a page size given by a variable as the same literal: two pages of 100 are refused', async () => {
    const token = await loginAsAdmin(app);
    const literal = await app.client.raw({ query: `{ ${page('a')} ${page('b')} }` }, { token });
    for (const body of [
      { query: twoPages('($n: Int)'), variables: { n: 100 } },
      { query: twoPages('($n: Int = 100)') },
      { query: `${twoPages('($n: Int)')} query Other { viewer { id } }`, variables: { n: 100 }, operationName: 'Two' },
      {
        query: `query Two($n: Int) { ...Pages } fragment Pages on Query { ${pageOf('a', '$n')} ${pageOf('b', '$n')} }`,
        variables: { n: 100 },
      },
    ]) {
      const res = await app.client.raw(body, { token });
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
      expect(res.errors?.[0]?.extensions?.limit).toBe(10_000);
      expect(res.data).toBeNull();
      expect(res.status).toBe(literal.status);
    }
  });

  // A page asked for without a size is the default page (20 users), and costs as `first: 20`:
  // eight such pages (~1460 each) are refused, four pass. The same when `first: $n` gets no value.
  const unsized = (alias: string) => page(alias).replace('(first: 100)', '');
  const aliases = (n: number) => 'abcdefgh'.slice(0, n).split('');
  it('costs a page asked for without first as the default page of 20', async () => {
    const token = await loginAsAdmin(app);
    const eight = await app.client.raw({ query: `{ ${aliases(8).map(unsized).join(' ')} }` }, { token });
    expect(eight.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    expect(eight.data).toBeNull();
    // An unset variable gets the default page, and so does first: null, whichever way the null comes.
    const eightOf = (size: string, definitions = '($n: Int)') =>
      `query Eight${definitions} { ${aliases(8)
        .map((a) => pageOf(a, size))
        .join(' ')} }`;
    for (const body of [
      { query: eightOf('$n') },
      { query: eightOf('$n'), variables: { n: null } },
      { query: eightOf('$n', '($n: Int = null)') },
      { query: eightOf('null', '') },
      { query: `query Eight { ...Pages } fragment Pages on Query { ${aliases(8).map(unsized).join(' ')} }` },
    ]) {
      const res = await app.client.raw(body, { token });
      expect(
        res.errors?.map((e) => e.extensions?.code),
        JSON.stringify(body),
      ).toEqual(['QUERY_TOO_COSTLY']);
    }
    const four = await app.client.raw({ query: `{ ${aliases(4).map(unsized).join(' ')} }` }, { token });
    expect(four.errors).toBeUndefined();
    expect((four.data as { a: { edges: unknown[] } }).a.edges.length).toBeGreaterThan(0);
  });

  it('lets the same document through when the variable asks for small pages', async () => {
    const token = await loginAsAdmin(app);
    const res = await app.client.raw({ query: twoPages('($n: Int)'), variables: { n: 2 } }, { token });
    expect(res.errors).toBeUndefined();
    expect((res.data as { a: { edges: unknown[] } }).a.edges.length).toBeGreaterThan(0);
  });
});

describe('the request body', () => {
  it('is refused above MAX_REQUEST_BODY_BYTES with REQUEST_TOO_LARGE', async () => {
    const res = await app.client.raw({ query: `{ viewer { id } } #${'x'.repeat(200_000)}` });
    expect(res.status).toBe(413);
    expect(res.code).toBe('REQUEST_TOO_LARGE');
  });
});
