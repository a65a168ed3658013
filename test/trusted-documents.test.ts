import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type DocumentNode, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { LoginDocument, RegisterDocument, ViewerDocument } from './generated/graphql.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// PERSISTED_OPERATIONS_ONLY: only the operations of the manifest GraphQL Code Generator's client
// preset wrote (test/generated/persisted-documents.json, from test/operations) run.

const MANIFEST = path.resolve('test/generated/persisted-documents.json');

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ PERSISTED_OPERATIONS_ONLY: 'true', PERSISTED_OPERATIONS_MANIFEST: MANIFEST });
});
afterAll(() => app.close());

const idOf = (document: DocumentNode) => (document as unknown as { __meta__: { hash: string } }).__meta__.hash;

async function send(body: unknown, token?: string) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    ...((await res.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions: { code: string } }[] }),
  };
}

const byId = (document: DocumentNode, variables: Record<string, unknown> = {}, token?: string) =>
  send({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(document) } } }, token);

describe('trusted documents', () => {
  it('run a known operation by its id: register, log in, viewer', async () => {
    const email = uniqueEmail('trusted');
    const registered = await byId(RegisterDocument, { input: { email, password: TEST_PASSWORD } });
    expect(registered.errors).toBeUndefined();
    const login = await byId(LoginDocument, { email, password: TEST_PASSWORD, mode: 'JSON' });
    const token = (login.data?.login as { accessToken: string } | undefined)?.accessToken;
    const viewer = await byId(ViewerDocument, {}, token);
    expect(viewer.data).toEqual({ viewer: { id: expect.any(String), email, status: 'ACTIVE' } });
  });

  it('refuse an unknown id with PERSISTED_OPERATION_NOT_FOUND', async () => {
    const res = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: `sha256:${'0'.repeat(64)}` } } });
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions.code).toBe('PERSISTED_OPERATION_NOT_FOUND');
    expect(res.data).toBeUndefined();
  });

  it('refuse any document, even the text of a known one, with PERSISTED_OPERATIONS_ONLY', async () => {
    for (const body of [
      { query: '{ __typename }' },
      { query: print(ViewerDocument) },
      // An APQ registration would add an operation: not here.
      { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: idOf(ViewerDocument) } } },
      {},
    ]) {
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions.code).toBe('PERSISTED_OPERATIONS_ONLY');
    }
    const get = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'x-graphql-csrf': '1' } });
    expect(((await get.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      'PERSISTED_OPERATIONS_ONLY',
    );
  });

  it('need a manifest, and refuse to start on one that is not a manifest', async () => {
    expect(() => loadConfig({ PERSISTED_OPERATIONS_ONLY: 'true' })).toThrow(/PERSISTED_OPERATIONS_MANIFEST: required/);
    const bad = path.join(tmpdir(), `gatehouse-manifest-${process.pid}.json`);
    await writeFile(bad, '["not", "a", "manifest"]');
    await expect(startTestApp({ PERSISTED_OPERATIONS_ONLY: 'true', PERSISTED_OPERATIONS_MANIFEST: bad })).rejects.toThrow(
      /PERSISTED_OPERATIONS_MANIFEST/,
    );
  });
});
