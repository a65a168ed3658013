import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import { FEDERATION_SPEC_URL, guardEntities } from './federation.ts';
import './scalars.ts';
import '../modules/users/users.schema.ts';
import '../modules/auth/auth.schema.ts';
import '../modules/sso/sso.schema.ts';
import '../modules/password-reset/password-reset.schema.ts';
import '../modules/sessions/session.schema.ts';
import '../modules/password-change/password-change.schema.ts';
import '../modules/two-factor/two-factor.schema.ts';
import '../modules/access/roles.schema.ts';
import '../modules/access/policies.schema.ts';
import '../modules/access/permissions.schema.ts';
import '../modules/registration/registration.schema.ts';
import '../modules/invitations/invitation.schema.ts';
import '../modules/email-change/email-change.schema.ts';
import '../modules/mail-outbox/mail-outbox.schema.ts';
import '../modules/audit/audit.schema.ts';

builder.queryType({});
builder.mutationType({});

/**
 * The schema served at /graphql: the API plus Apollo Federation's `_service` and `_entities`, so
 * that a gateway can compose Gatehouse as a subgraph (see README, Federation).
 */
export const schema = guardEntities(builder.toSubGraphSchema({ linkUrl: FEDERATION_SPEC_URL }));

/** The API without federation's plumbing: committed as schema.graphql; a test fails when the two drift apart. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(builder.toSchema()))}\n`;
}

/**
 * The subgraph SDL a gateway composes (what `{ _service { sdl } }` answers), with the federation
 * directives: committed as schema.subgraph.graphql, for composing without introspection.
 */
export function printSubgraphSdl(): string {
  return `${printSubgraphSchema(schema)}\n`;
}
