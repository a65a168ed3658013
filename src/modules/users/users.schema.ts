import { UserStatus as UserStatusValues } from '../../generated/prisma/enums.ts';
import { builder, holdsPermission, refusalFor } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import { actorOf, readable } from '../access/admin-fields.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit } from '../rate-limits/rate-limit.guard.ts';
import { loadVisibleUser } from './user-references.ts';
import { DEFAULT_PAGE } from './users.service.ts';

export const UserStatus = builder.enumType(UserStatusValues, { name: 'UserStatus' });

export const User = builder.prismaObject('User', {
  description: 'An account. Each field shows only where a users:read permission covering the account names it.',
  fields: (t) => ({
    id: t.exposeID('id', readable('users', 'id')),
    email: t.exposeString('email', readable('users', 'email')),
    firstName: t.exposeString('firstName', { nullable: true, ...readable('users', 'firstName') }),
    lastName: t.exposeString('lastName', { nullable: true, ...readable('users', 'lastName') }),
    status: t.expose('status', { type: UserStatus, ...readable('users', 'status') }),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('users', 'createdAt') }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', ...readable('users', 'updatedAt') }),
    twoFactorEnabled: t.boolean({
      description: 'Whether two-factor authentication is on for this account.',
      ...readable('users', 'twoFactorEnabled'),
      resolve: (user, _args, ctx) => ctx.services.twoFactor.isEnabled(user.id),
    }),
  }),
});

// A federation entity: other subgraphs return `User` references by id (e.g. `Post.author`) and the
// gateway asks Gatehouse for the rest through `_entities`. Resolving a reference is `user(id:)` under
// another name: the same users:read permission (refused with the same error), the same row filter
// (null outside it) and, on the row returned, the same field-level checks.
builder.asEntity(User, {
  key: builder.selection<{ id: string }>('id'),
  // Async, so that a refusal is the error of that one reference (path _entities.N), as `user(id:)`'s is of that field.
  resolveReference: async ({ id }, ctx) => {
    if (!holdsPermission(ctx, { resource: 'users', action: 'read' })) throw refusalFor(ctx);
    return loadVisibleUser(ctx, String(id));
  },
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  description: 'Anonymous callers may set only the fields the public policy allows (by default email and password).',
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    firstName: t.string(),
    lastName: t.string(),
    status: t.field({ type: UserStatus }),
    policies: t.idList({ description: 'Policy ids granted directly to the user.', ...hiddenInSupergraph }),
    role: t.id({ description: 'Role id.', ...hiddenInSupergraph }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description:
    "Fields to change; omitted ones stay. Each field set must be allowed by the caller's users:update permission for this user. `role: null` removes the role; `policies` replaces the directly granted ones.",
  fields: (t) => ({
    email: t.string(),
    password: t.string({ description: "Sets a new password: the user's other sessions end and reset links are voided." }),
    firstName: t.string(),
    lastName: t.string(),
    status: t.field({ type: UserStatus, description: 'Anything but ACTIVE ends the user’s sessions at once.' }),
    policies: t.idList(hiddenInSupergraph),
    role: t.id(hiddenInSupergraph),
  }),
});

interface UserEdgeShape {
  node: (typeof User)['$inferType'];
  cursor: string;
}

const UserEdge = builder.objectRef<UserEdgeShape>('UserEdge').implement({
  fields: (t) => ({
    node: t.field({ type: User, resolve: (edge) => edge.node }),
    cursor: t.exposeString('cursor'),
  }),
});

export const PageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  description: 'Relay page information. Lists page forwards only (`first`/`after`).',
  // Other subgraphs page with Relay connections too: one PageInfo in the supergraph, defined alike by each.
  shareable: true,
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.boolean({ resolve: () => false }),
    startCursor: t.string({ nullable: true, resolve: () => null }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const UserConnection = builder
  .objectRef<{ edges: UserEdgeShape[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('UserConnection')
  .implement({
    fields: (t) => ({
      edges: t.field({ type: [UserEdge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
    }),
  });

// A plain field rather than a prismaField: the row comes from the per-user cache (findViewer), and
// a prismaField would build a Prisma selection from the query document on every request (~40 µs, a
// tenth of a bearer `viewer`'s CPU) only to find it empty. Relations asked for beneath (sessions,
// policies, role…) are loaded by the Prisma plugin from the row's id, as for any User returned
// without them.
builder.queryField('viewer', (t) =>
  t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user; null when anonymous. A bad or expired credential is an error, not null.',
    resolve: (_root, _args, ctx) => {
      if (ctx.authError) throw ctx.authError;
      return ctx.viewer ? ctx.services.users.findViewer(ctx.viewer.userId) : null;
    },
  }),
);

builder.queryField('users', (t) =>
  t.field({
    type: UserConnection,
    description:
      'Users the viewer may read (users:read and its row filter), oldest first. `email` matches a part of the address; filtering by a field needs permission to read it.',
    authScopes: { permission: { resource: 'users', action: 'read' } },
    args: {
      first: t.arg.int({ defaultValue: DEFAULT_PAGE, description: 'Page size, 1 to 100.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      email: t.arg.string(),
      status: t.arg({ type: UserStatus }),
      roleId: t.arg.id(),
    },
    resolve: async (_root, args, ctx) => {
      const { edges, hasNextPage } = await ctx.services.users.listUsers(actorOf(ctx), { ...args, roleId: args.roleId?.toString() });
      return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  }),
);

builder.queryField('user', (t) =>
  t.prismaField({
    type: 'User',
    nullable: true,
    description: 'A user the viewer may read; null when there is none or it lies outside their users:read row filter.',
    authScopes: { permission: { resource: 'users', action: 'read' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.users.findVisible(actorOf(ctx), String(id), query),
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
      const user = await ctx.services.users.createUser(
        ctx.access,
        { ...input, policies: input.policies?.map(String), role: input.role?.toString() },
        query,
      );
      // Signing up (anonymous) is a registration; an account made by someone signed in, a creation.
      recordEvent(ctx, {
        type: ctx.viewer ? 'user.created' : 'user.registered',
        userId: user.id,
        details: { status: user.status },
      });
      // An anonymous registrant sees the new account as the account itself may (signed-in creators by their own rights).
      return ctx.viewer ? user : ctx.services.users.asSelf(user, ctx.client.ip);
    },
  }),
);

builder.mutationField('updateUser', (t) =>
  t.prismaField({
    type: 'User',
    description: 'Changes a user within users:update. The last active administrator cannot be demoted or suspended (LAST_ADMIN).',
    authScopes: { permission: { resource: 'users', action: 'update' } },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateUserInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const user = await ctx.services.users.updateUser(
        actorOf(ctx),
        String(id),
        { ...input, policies: input.policies?.map(String) ?? input.policies, role: input.role === null ? null : input.role?.toString() },
        query,
      );
      const userId = String(id);
      if (input.status) recordEvent(ctx, { type: 'user.status_changed', userId, details: { status: input.status } });
      if (input.password) recordEvent(ctx, { type: 'password.changed', userId, details: { by: 'updateUser' } });
      if (input.role !== undefined)
        recordEvent(ctx, {
          type: 'role.changed',
          userId,
          details: { action: 'assign', role: input.role === null ? null : String(input.role) },
        });
      if (input.policies)
        recordEvent(ctx, { type: 'policy.changed', userId, details: { action: 'assign', policies: input.policies.length } });
      return user;
    },
  }),
);

builder.mutationField('deleteUser', (t) =>
  t.boolean({
    description: 'Deletes a user within users:delete; their sessions end at once. Not the last active administrator (LAST_ADMIN).',
    authScopes: { permission: { resource: 'users', action: 'delete' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await ctx.services.users.deleteUser(actorOf(ctx), String(id));
      recordEvent(ctx, { type: 'user.deleted', userId: String(id) });
      return true;
    },
  }),
);
