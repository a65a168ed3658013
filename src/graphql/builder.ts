import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { AppError } from '../errors.ts';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Context } from '../http/context.ts';
import type { Action, Resource } from '../modules/access/access.types.ts';

export interface Permission {
  resource: Resource;
  action: Action;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { authenticated: boolean; enrolling: boolean; admin: boolean; permission: Permission };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, PrismaPlugin],
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
      return {
        authenticated: ctx.viewer !== null && full,
        enrolling: ctx.viewer !== null,
        admin: ctx.access.admin && full,
        permission: ({ resource, action }) => full && ctx.access.rule(resource, action) !== null,
      };
    },
    // Anonymous callers learn why they failed (bad token, or none); signed-in ones get FORBIDDEN.
    unauthorizedError: (_parent, ctx) => {
      if (ctx.viewer && ctx.twoFactorEnrolmentRequired) return new AppError('TWO_FACTOR_ENROLMENT_REQUIRED');
      if (ctx.viewer) return new AppError('FORBIDDEN');
      return ctx.authError ?? new AppError('UNAUTHENTICATED');
    },
  },
});
