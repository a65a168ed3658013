import { UserStatus as UserStatusValues } from '../../generated/prisma/enums.ts';
import { builder } from '../../graphql/builder.ts';
import { enforceRateLimit } from '../rate-limits/rate-limit.guard.ts';

export const UserStatus = builder.enumType(UserStatusValues, { name: 'UserStatus' });

builder.prismaObject('User', {
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    status: t.expose('status', { type: UserStatus }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    twoFactorEnabled: t.boolean({
      description: 'Whether two-factor authentication is on for this account.',
      resolve: (user, _args, ctx) => ctx.services.twoFactor.isEnabled(user.id),
    }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  description: 'Anonymous callers may set only the fields the public policy allows (by default email and password).',
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    firstName: t.string(),
    lastName: t.string(),
    status: t.field({ type: UserStatus }),
    policies: t.idList({ description: 'Policy ids granted directly to the user.' }),
    role: t.id({ description: 'Role id.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user; null when anonymous. A bad or expired credential is an error, not null.',
    resolve: (query, _root, _args, ctx) => {
      if (ctx.authError) throw ctx.authError;
      return ctx.viewer ? ctx.services.users.findById(ctx.viewer.userId, query) : null;
    },
  }),
);

builder.mutationField('createUser', (t) =>
  t.prismaField({
    type: 'User',
    description: "Registers a user. Every field set must be allowed by the caller's users:create permission.",
    authScopes: { permission: { resource: 'users', action: 'create' } },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      // Registration is limited; an administrator creating accounts is not (they hold every right anyway).
      if (!ctx.access.admin) await enforceRateLimit(ctx, 'createUser', input.email);
      return ctx.services.users.createUser(
        ctx.access,
        { ...input, policies: input.policies?.map(String), role: input.role?.toString() },
        query,
      );
    },
  }),
);
