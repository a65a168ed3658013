import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import PrismaPlugin from '@pothos/plugin-prisma';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { AppError } from '../errors.ts';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Context } from '../http/context.ts';
import { fieldReadable } from '../modules/access/access.check.ts';
import type { Action, Resource, Row } from '../modules/access/access.types.ts';
import { readIdentityOf } from '../modules/access/read-identity.ts';

export interface Permission {
  resource: Resource;
  action: Action;
}

/** A field of a loaded row: readable when a read permission covering the row names the field. */
export interface FieldRead {
  resource: Resource;
  field: string;
  row: Row;
}

/** What the `permission` scope checks; also used where no Pothos field stands (federation's entity references). */
export function holdsPermission(ctx: Context, { resource, action }: Permission): boolean {
  return !ctx.twoFactorEnrolmentRequired && ctx.access.can(resource, action);
}

/** The error of a refused auth scope. Anonymous callers learn why they failed (bad token, or none); signed-in ones get FORBIDDEN. */
export function refusalFor(ctx: Context): AppError {
  if (ctx.viewer && ctx.twoFactorEnrolmentRequired) return new AppError('TWO_FACTOR_ENROLMENT_REQUIRED');
  if (ctx.viewer) return new AppError('FORBIDDEN');
  return ctx.authError ?? new AppError('UNAUTHENTICATED');
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { authenticated: boolean; enrolling: boolean; admin: boolean; permission: Permission; readField: FieldRead };
  Scalars: { DateTime: { Input: Date; Output: Date }; JSON: { Input: unknown; Output: unknown } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  // Federation comes after the plugins that wrap resolvers (its entity resolvers are not Pothos fields);
  // Directives turns the federation directives (@key, @shareable, @inaccessible) into printable AST.
  plugins: [ScopeAuthPlugin, PrismaPlugin, DirectivesPlugin, FederationPlugin],
  prisma: {
    // The client comes from the request's services: the builder itself holds no connection.
    client: (ctx) => ctx.services.db,
    dmmf: getDatamodel(),
    onUnusedQuery: null,
  },
  scopeAuth: {
    // A viewer who must first enrol in 2FA holds only `enrolling` (what enrolment needs).
    authScopes: (ctx) => {
      const full = !ctx.twoFactorEnrolmentRequired;
      const vars = { userId: ctx.viewer?.userId ?? null };
      return {
        authenticated: ctx.viewer !== null && full,
        enrolling: ctx.viewer !== null,
        admin: ctx.access.admin && full,
        permission: (permission) => holdsPermission(ctx, permission),
        readField: ({ resource, field, row }) => {
          const as = readIdentityOf(row);
          if (as) return as.always.has(field) || fieldReadable(as.access, resource, field, row, { userId: as.userId });
          // Their own record stays readable (as policies allow) while a viewer enrols.
          return (
            (full || (resource === 'users' && (row as { id?: unknown }).id === vars.userId)) &&
            fieldReadable(ctx.access, resource, field, row, vars)
          );
        },
      };
    },
    unauthorizedError: (_parent, ctx) => refusalFor(ctx),
  },
});
