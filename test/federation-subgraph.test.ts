import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePermissionDocument, CreatePolicyDocument, PoliciesDocument, UpdateUserDocument } from './generated/graphql.ts';
import { loginAsAdmin, registerAndLogin, registerUser } from './helpers/factories.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// Gatehouse as a federation subgraph, asked directly the way a gateway asks it: `_service` and
// `_entities`. The gateway itself is in federation.test.ts.

const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email firstName } } }';
const USER_BY_ID = 'query ($id: ID!) { user(id: $id) { id email firstName } }';
const ref = (id: string) => ({ __typename: 'User', id });

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ GRAPHQL_MAX_ENTITIES: '5' });
});
afterAll(() => app.close());

describe('the subgraph schema', () => {
  it('serves its SDL at _service, the very text committed as schema.subgraph.graphql', async () => {
    const res = await app.client.raw<{ _service: { sdl: string } }>({ query: '{ _service { sdl } }' });
    expect(res.errors).toBeUndefined();
    const committed = readFileSync(new URL('../schema.subgraph.graphql', import.meta.url), 'utf8');
    expect(`${res.data?._service.sdl}\n`).toBe(committed);
    expect(committed).toMatch(/type User\s+@key\(fields: "id"\)/);
  });
});

describe('_entities resolves User references as user(id:) does', () => {
  it('gives a signed-in user their own record and null for anyone else, like user(id:)', async () => {
    const me = await registerAndLogin(app);
    const other = await registerUser(app);
    const res = await app.client.raw({ query: ENTITIES, variables: { r: [ref(me.id), ref(other.id)] } }, { token: me.accessToken });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ _entities: [{ id: me.id, email: me.email, firstName: null }, null] });
    const direct = await app.client.raw({ query: USER_BY_ID, variables: { id: other.id } }, { token: me.accessToken });
    expect(direct.data).toEqual({ user: null });
  });

  it('refuses anonymous callers each reference with the error user(id:) gives them, so nobody is enumerated', async () => {
    const someone = await registerUser(app);
    const direct = await app.client.raw({ query: USER_BY_ID, variables: { id: someone.id } });
    expect(direct.code).toBe('UNAUTHENTICATED');
    const res = await app.client.raw<{ _entities: unknown[] }>({ query: ENTITIES, variables: { r: [ref(someone.id), ref(someone.id)] } });
    expect(res.data?._entities).toEqual([null, null]);
    expect(res.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([
      ['UNAUTHENTICATED', ['_entities', 0]],
      ['UNAUTHENTICATED', ['_entities', 1]],
    ]);
  });

  it('reports a bad token as user(id:) does (INVALID_TOKEN), not as anonymous', async () => {
    const someone = await registerUser(app);
    const res = await app.client.raw({ query: ENTITIES, variables: { r: [ref(someone.id)] } }, { token: 'not.a.token' });
    expect(res.code).toBe('INVALID_TOKEN');
  });

  it('shows another user only the fields a policy opens on that row: FORBIDDEN for the rest, as through user(id:)', async () => {
    const admin = await loginAsAdmin(app);
    const as = { token: admin };
    const policies = await app.client.request(PoliciesDocument, {}, as);
    const userPolicy = policies.data!.policies.find((p) => p.name === 'User')!;
    const names = await app.client.request(CreatePolicyDocument, { input: { name: `Names ${Date.now()}-${Math.random()}` } }, as);
    const namesId = names.data!.createPolicy.id;
    await app.client.request(
      CreatePermissionDocument,
      { input: { policy: namesId, resource: 'users', action: 'read', fields: ['id', 'firstName'] } },
      as,
    );
    const reader = await registerAndLogin(app);
    await app.client.request(UpdateUserDocument, { id: reader.id, input: { policies: [userPolicy.id, namesId] } }, as);
    const other = await registerUser(app);

    const direct = await app.client.raw({ query: USER_BY_ID, variables: { id: other.id } }, { token: reader.accessToken });
    const res = await app.client.raw({ query: ENTITIES, variables: { r: [ref(other.id)] } }, { token: reader.accessToken });
    expect(direct.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['FORBIDDEN', ['user', 'email']]]);
    expect(res.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['FORBIDDEN', ['_entities', 0, 'email']]]);
    // email is non-null: the refusal nulls the entity, as it nulls `user` directly.
    expect(res.data).toEqual({ _entities: [null] });
    const names2 = await app.client.raw(
      {
        query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id firstName } } }',
        variables: { r: [ref(other.id)] },
      },
      { token: reader.accessToken },
    );
    expect(names2.errors).toBeUndefined();
    expect(names2.data).toEqual({ _entities: [{ id: other.id, firstName: null }] });
  });
});

describe('_entities is bounded and validated before anything is resolved', () => {
  it('refuses more representations than GRAPHQL_MAX_ENTITIES with QUERY_TOO_COSTLY', async () => {
    const me = await registerAndLogin(app);
    const res = await app.client.raw(
      { query: ENTITIES, variables: { r: Array.from({ length: 6 }, () => ref(me.id)) } },
      { token: me.accessToken },
    );
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'QUERY_TOO_COSTLY', limit: 5 }]);
  });

  it.each([
    ['an unknown type', { __typename: 'Policy', id: '00000000-0000-4000-8000-000000000000' }],
    ['no type', { id: '00000000-0000-4000-8000-000000000000' }],
    ['no id', { __typename: 'User' }],
    ['a numeric id', { __typename: 'User', id: 7 }],
    ['a string', 'User:1'],
  ])('answers a representation with %s as BAD_USER_INPUT, never an internal error', async (_label, representation) => {
    const me = await registerAndLogin(app);
    const res = await app.client.raw({ query: ENTITIES, variables: { r: [ref(me.id), representation] } }, { token: me.accessToken });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.data).toBeNull();
  });

  it('answers an id that is no user id with null', async () => {
    const me = await registerAndLogin(app);
    const res = await app.client.raw({ query: ENTITIES, variables: { r: [ref('not-a-uuid'), ref(me.id)] } }, { token: me.accessToken });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ _entities: [null, { id: me.id, email: me.email, firstName: null }] });
  });

  it('holds _entities documents to the query limits like any other', async () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: email`).join(' ');
    const res = await app.client.raw({
      query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${aliases} } } }`,
      variables: { r: [] },
    });
    expect(res.code).toBe('QUERY_TOO_MANY_ALIASES');
    expect(res.data).toBeNull();
  });
});
