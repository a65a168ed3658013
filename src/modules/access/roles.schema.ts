import type { Prisma } from '../../generated/prisma/client.ts';
import { builder } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import { recordChange } from '../audit/record.ts';
import { rowAllowed } from './access.check.ts';
import { MAX_LIST } from './access-admin.validation.ts';
import { actorOf, idString, idStrings, readable, readableRows, viewerVars } from './admin-fields.ts';
import { Policy } from './policies.schema.ts';

export const Role = builder.prismaObject('Role', {
  ...hiddenInSupergraph,
  description: "A named set of policies. A user has at most one role and holds its policies and its ancestors'.",
  fields: (t) => ({
    id: t.exposeID('id', readable('roles', 'id')),
    name: t.exposeString('name', readable('roles', 'name')),
    description: t.exposeString('description', { nullable: true, ...readable('roles', 'description') }),
    policies: t.field({
      type: [Policy],
      description: "The role's own policies (not its ancestors') that the viewer may read, by name.",
      ...readable('roles', 'policies'),
      select: (_args, ctx, nestedSelection) => ({
        policies: {
          where: { policy: readableRows(ctx, 'policies') as Prisma.PolicyWhereInput },
          orderBy: { policy: { name: 'asc' } },
          take: MAX_LIST,
          select: { policy: nestedSelection(true) },
        },
      }),
      resolve: (role) => role.policies.map(({ policy }) => policy),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('roles', 'createdAt') }),
  }),
});

builder.prismaObjectField(Role, 'parent', (t) =>
  t.field({
    type: Role,
    nullable: true,
    description: 'The role whose policies this one inherits; null when it has none, or the viewer may not read it.',
    ...readable('roles', 'parent'),
    select: (_args, _ctx, nestedSelection) => ({ parent: nestedSelection(true) }),
    resolve: (role, _args, ctx) =>
      role.parent && rowAllowed(ctx.access, 'roles', 'read', role.parent, viewerVars(ctx)) ? role.parent : null,
  }),
);

builder.prismaObjectField('User', 'role', (t) =>
  t.field({
    ...hiddenInSupergraph,
    type: Role,
    nullable: true,
    description: "The user's role; null when they have none, or the viewer may not read it.",
    ...readable('users', 'role'),
    select: (_args, _ctx, nestedSelection) => ({ role: nestedSelection(true) }),
    resolve: (user, _args, ctx) => (user.role && rowAllowed(ctx.access, 'roles', 'read', user.role, viewerVars(ctx)) ? user.role : null),
  }),
);

const CreateRoleInput = builder.inputType('CreateRoleInput', {
  ...hiddenInSupergraph,
  description: "Every field set must be allowed by the caller's roles:create permission; its presets win over input.",
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 100 printable characters, unique.' }),
    description: t.string({ description: 'At most 500 characters.' }),
    parent: t.id({ description: 'Id of the role to inherit policies from.' }),
    policies: t.idList({ description: 'Ids of the policies the role grants.' }),
  }),
});

const UpdateRoleInput = builder.inputType('UpdateRoleInput', {
  ...hiddenInSupergraph,
  description: "Fields left out are kept; every field set must be allowed by the caller's roles:update permission.",
  fields: (t) => ({
    name: t.string(),
    description: t.string({ description: 'null clears it.' }),
    parent: t.id({ description: 'null makes the role top-level.' }),
    policies: t.idList({ description: "Replaces the role's policies." }),
  }),
});

builder.queryField('roles', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: [Role],
    description: 'The roles the viewer may read (at most 500), by name.',
    authScopes: { permission: { resource: 'roles', action: 'read' } },
    resolve: (query, _root, _args, ctx) => ctx.services.roles.listRoles(actorOf(ctx), query),
  }),
);

builder.queryField('role', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Role,
    nullable: true,
    description: 'A role by id; null when there is none the viewer may read.',
    authScopes: { permission: { resource: 'roles', action: 'read' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.roles.findRole(actorOf(ctx), String(id), query),
  }),
);

builder.mutationField('createRole', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Role,
    description: 'Creates a role. Only an admin may create one that leads to a policy with adminAccess.',
    authScopes: { permission: { resource: 'roles', action: 'create' } },
    args: { input: t.arg({ type: CreateRoleInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      recordChange(ctx, 'role.changed', 'create', null, () =>
        ctx.services.roles.createRole(
          actorOf(ctx),
          { ...input, parent: idString(input.parent), policies: idStrings(input.policies) },
          query,
        ),
      ),
  }),
);

builder.mutationField('updateRole', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Role,
    description:
      'Changes a role the viewer may update (NOT_FOUND otherwise); new policies or parent count for its users from their next request.',
    authScopes: { permission: { resource: 'roles', action: 'update' } },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateRoleInput, required: true }) },
    resolve: (query, _root, { id, input }, ctx) =>
      recordChange(ctx, 'role.changed', 'update', String(id), () =>
        ctx.services.roles.updateRole(
          actorOf(ctx),
          String(id),
          { ...input, parent: idString(input.parent), policies: idStrings(input.policies) },
          query,
        ),
      ),
  }),
);

builder.mutationField('deleteRole', (t) =>
  t.boolean({
    ...hiddenInSupergraph,
    description: 'Deletes a role the viewer may delete (NOT_FOUND otherwise); its users keep their account and lose its policies.',
    authScopes: { permission: { resource: 'roles', action: 'delete' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await recordChange(ctx, 'role.changed', 'delete', String(id), () => ctx.services.roles.deleteRole(actorOf(ctx), String(id)));
      return true;
    },
  }),
);
