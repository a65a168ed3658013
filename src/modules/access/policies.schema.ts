import type { Prisma } from '../../generated/prisma/client.ts';
import { builder } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import { recordChange } from '../audit/record.ts';
import { MAX_LIST } from './access-admin.validation.ts';
import { actorOf, readable, readableRows } from './admin-fields.ts';

export const Policy = builder.prismaObject('Policy', {
  ...hiddenInSupergraph,
  description: 'A set of permissions (or admin access to everything), held by users directly or through their role.',
  fields: (t) => ({
    id: t.exposeID('id', readable('policies', 'id')),
    name: t.exposeString('name', readable('policies', 'name')),
    description: t.exposeString('description', { nullable: true, ...readable('policies', 'description') }),
    isPublic: t.exposeBoolean('isPublic', {
      description: 'Whether this is the policy of anonymous requests (exactly one policy is).',
      ...readable('policies', 'isPublic'),
    }),
    adminAccess: t.exposeBoolean('adminAccess', { description: 'Grants every right.', ...readable('policies', 'adminAccess') }),
    enforceTwoFactor: t.exposeBoolean('enforceTwoFactor', {
      description: 'Its holders must enrol in two-factor authentication before anything else.',
      ...readable('policies', 'enforceTwoFactor'),
    }),
    ipAllowList: t.exposeStringList('ipAllowList', {
      description: 'When not empty, the policy applies only to requests from these addresses and CIDR ranges.',
      ...readable('policies', 'ipAllowList'),
    }),
    permissions: t.relation('permissions', {
      description: 'Its permissions the viewer may read.',
      ...readable('policies', 'permissions'),
      query: (_args, ctx) => ({
        where: readableRows(ctx, 'permissions') as Prisma.PermissionWhereInput,
        orderBy: [{ resource: 'asc' }, { action: 'asc' }, { id: 'asc' }],
        take: MAX_LIST,
      }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('policies', 'createdAt') }),
  }),
});

builder.prismaObjectField('User', 'policies', (t) =>
  t.field({
    ...hiddenInSupergraph,
    type: [Policy],
    description: 'Policies granted to the user directly (not through their role) that the viewer may read, by name.',
    ...readable('users', 'policies'),
    select: (_args, ctx, nestedSelection) => ({
      policies: {
        where: { policy: readableRows(ctx, 'policies') as Prisma.PolicyWhereInput },
        orderBy: { policy: { name: 'asc' } },
        take: MAX_LIST,
        select: { policy: nestedSelection(true) },
      },
    }),
    resolve: (user) => user.policies.map(({ policy }) => policy),
  }),
);

const CreatePolicyInput = builder.inputType('CreatePolicyInput', {
  ...hiddenInSupergraph,
  description: "Every field set must be allowed by the caller's policies:create permission; its presets win over input.",
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 100 printable characters, unique.' }),
    description: t.string({ description: 'At most 500 characters.' }),
    adminAccess: t.boolean({ description: 'Only an admin may set it.' }),
    enforceTwoFactor: t.boolean(),
    ipAllowList: t.stringList({ description: 'At most 100 IP addresses or CIDR ranges; empty for any address.' }),
  }),
});

const UpdatePolicyInput = builder.inputType('UpdatePolicyInput', {
  ...hiddenInSupergraph,
  description: "Fields left out are kept; every field set must be allowed by the caller's policies:update permission.",
  fields: (t) => ({
    name: t.string(),
    description: t.string({ description: 'null clears it.' }),
    adminAccess: t.boolean({ description: 'Only an admin may change it; the public policy never has it.' }),
    enforceTwoFactor: t.boolean({ description: 'The public policy never has it.' }),
    ipAllowList: t.stringList({ description: 'Replaces the list.' }),
  }),
});

builder.queryField('policies', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: [Policy],
    description: 'The policies the viewer may read (at most 500), by name.',
    authScopes: { permission: { resource: 'policies', action: 'read' } },
    resolve: (query, _root, _args, ctx) => ctx.services.policies.listPolicies(actorOf(ctx), query),
  }),
);

builder.queryField('policy', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Policy,
    nullable: true,
    description: 'A policy by id; null when there is none the viewer may read.',
    authScopes: { permission: { resource: 'policies', action: 'read' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.policies.findPolicy(actorOf(ctx), String(id), query),
  }),
);

builder.mutationField('createPolicy', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Policy,
    description: 'Creates a policy; it counts from the next request. Only an admin may give it adminAccess.',
    authScopes: { permission: { resource: 'policies', action: 'create' } },
    args: { input: t.arg({ type: CreatePolicyInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      recordChange(ctx, 'policy.changed', 'create', null, () => ctx.services.policies.createPolicy(actorOf(ctx), input, query)),
  }),
);

builder.mutationField('updatePolicy', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: Policy,
    description:
      'Changes a policy the viewer may update (NOT_FOUND otherwise); it counts from the next request. Only an admin may change a policy with adminAccess.',
    authScopes: { permission: { resource: 'policies', action: 'update' } },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePolicyInput, required: true }) },
    resolve: (query, _root, { id, input }, ctx) =>
      recordChange(ctx, 'policy.changed', 'update', String(id), () =>
        ctx.services.policies.updatePolicy(actorOf(ctx), String(id), input, query),
      ),
  }),
);

builder.mutationField('deletePolicy', (t) =>
  t.boolean({
    ...hiddenInSupergraph,
    description:
      'Deletes a policy the viewer may delete (NOT_FOUND otherwise), with its permissions; its holders lose it from their next request. The public policy cannot be deleted.',
    authScopes: { permission: { resource: 'policies', action: 'delete' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await recordChange(ctx, 'policy.changed', 'delete', String(id), () => ctx.services.policies.deletePolicy(actorOf(ctx), String(id)));
      return true;
    },
  }),
);
