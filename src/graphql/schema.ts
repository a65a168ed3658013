import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import '../modules/users/users.schema.ts';
import '../modules/auth/auth.schema.ts';
import '../modules/password-reset/password-reset.schema.ts';
import '../modules/sessions/session.schema.ts';
import '../modules/password-change/password-change.schema.ts';
import '../modules/two-factor/two-factor.schema.ts';
import '../modules/access/roles.schema.ts';
import '../modules/access/policies.schema.ts';
import '../modules/access/permissions.schema.ts';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql; a test fails when the two drift apart. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
