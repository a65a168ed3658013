import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaSdl, printSubgraphSdl } from '../src/graphql/schema.ts';

const committed = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('schema.graphql', () => {
  it('matches the Pothos schema (run `npm run schema:print` after changing it)', () => {
    expect(printSchemaSdl()).toBe(committed('schema.graphql'));
  });

  it('is the plain API: no federation fields, types or directives', () => {
    expect(committed('schema.graphql')).not.toMatch(/_service|_entities|_Any|_Entity|@key|@link|@inaccessible|@shareable/);
  });
});

describe('schema.subgraph.graphql', () => {
  it('matches the federation subgraph SDL (run `npm run schema:print` after changing the schema)', () => {
    expect(printSubgraphSdl()).toBe(committed('schema.subgraph.graphql'));
  });
});
