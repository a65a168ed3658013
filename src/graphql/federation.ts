import { defaultFieldResolver, type GraphQLSchema, getNamedType, isUnionType } from 'graphql';
import { AppError, badInput } from '../errors.ts';
import type { Context } from '../http/context.ts';

/** The Apollo Federation version the subgraph schema links (`@link`); @apollo/composition 2.14 reads it. */
export const FEDERATION_SPEC_URL = 'https://specs.apollo.dev/federation/v2.6';

type Representation = { __typename: string; id: string };

/**
 * `_entities` takes a list of representations from any caller, not only from a gateway: each one
 * costs a row look-up, and the list comes in variables that no query limit sees. So before any
 * reference is resolved the list is held to GRAPHQL_MAX_ENTITIES (QUERY_TOO_COSTLY) and every
 * entry must name an entity of this schema by a string id (BAD_USER_INPUT): nothing a caller sends
 * reaches @apollo/subgraph's resolver as an "unexpected error". The references themselves are
 * resolved under the caller's policies (see the User entity).
 */
export function guardEntities(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field) throw new Error('the subgraph schema has no _entities field');
  const union = getNamedType(field.type);
  const entities = new Set(isUnionType(union) ? union.getTypes().map((type) => type.name) : []);
  const resolve = field.resolve ?? defaultFieldResolver;
  field.resolve = (source, args: { representations: unknown[] }, ctx: Context, info) => {
    const limit = ctx.config.graphqlLimits.maxEntities;
    if (limit !== null && args.representations.length > limit) throw new AppError('QUERY_TOO_COSTLY', { extensions: { limit } });
    if (!args.representations.every((r) => isRepresentation(r, entities))) {
      throw badInput('representations', 'each must name an entity type (__typename) and its id');
    }
    return resolve(source, args, ctx, info);
  };
  return schema;
}

function isRepresentation(value: unknown, entities: ReadonlySet<string>): value is Representation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { __typename, id } = value as Partial<Record<string, unknown>>;
  // Ids are UUIDs: a long string is no id, and need not travel further.
  return typeof __typename === 'string' && entities.has(__typename) && typeof id === 'string' && id.length <= 100;
}

/**
 * Marks a type or field `@inaccessible`: it stays on Gatehouse's own /graphql but is left out of the
 * supergraph a gateway serves. Used for access administration (roles, policies, permissions): see
 * README, Federation, for why.
 */
export const hiddenInSupergraph = { inaccessible: true } as const;
