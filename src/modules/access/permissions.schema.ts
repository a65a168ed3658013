import { builder } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import { JSONScalar } from '../../graphql/scalars.ts';
import { recordChange } from '../audit/record.ts';
import { ACTIONS, type Action, RESOURCES, type Resource } from './access.types.ts';
import { actorOf, idString, readable } from './admin-fields.ts';

const AccessResource = builder.enumType('AccessResource', {
  ...hiddenInSupergraph,
  description: 'What a permission governs.',
  values: RESOURCES,
});
const AccessAction = builder.enumType('AccessAction', { ...hiddenInSupergraph, values: ACTIONS });

builder.prismaObject('Permission', {
  ...hiddenInSupergraph,
  description: 'One action on one resource that a policy allows, bounded by fields, presets and a row filter.',
  fields: (t) => ({
    id: t.exposeID('id', readable('permissions', 'id')),
    policy: t.relation('policy', readable('permissions', 'policy')),
    resource: t.field({
      type: AccessResource,
      ...readable('permissions', 'resource'),
      resolve: (permission) => permission.resource as Resource,
    }),
    action: t.field({ type: AccessAction, ...readable('permissions', 'action'), resolve: (permission) => permission.action as Action }),
    fields: t.exposeStringList('fields', {
      description: 'Fields the action may read or write; ["*"] for all of them. Always ["*"] for delete.',
      ...readable('permissions', 'fields'),
    }),
    presets: t.field({
      type: JSONScalar,
      nullable: true,
      description: 'Values forced onto created or updated rows (create and update only); a preset always wins over input.',
      ...readable('permissions', 'presets'),
      resolve: (permission) => permission.presets,
    }),
    filter: t.field({
      type: JSONScalar,
      nullable: true,
      description: 'Which rows it covers (read, update and delete only), e.g. {"id": {"_eq": "$CURRENT_USER"}}; null for all.',
      ...readable('permissions', 'filter'),
      resolve: (permission) => permission.filter,
    }),
  }),
});

const CreatePermissionInput = builder.inputType('CreatePermissionInput', {
  ...hiddenInSupergraph,
  description: "Every field set must be allowed by the caller's permissions:create permission; its presets win over input.",
  fields: (t) => ({
    policy: t.id({ required: true, description: 'Id of the policy it belongs to; only an admin may add to a policy with adminAccess.' }),
    resource: t.field({ type: AccessResource, required: true }),
    action: t.field({ type: AccessAction, required: true }),
    fields: t.stringList({ description: 'Field names of the resource, or ["*"]; reserved fields cannot be granted. Ignored for delete.' }),
    presets: t.field({ type: JSONScalar, description: 'An object of write fields and the values to force (create and update only).' }),
    filter: t.field({ type: JSONScalar, description: 'A row filter (read, update and delete only).' }),
  }),
});

const UpdatePermissionInput = builder.inputType('UpdatePermissionInput', {
  ...hiddenInSupergraph,
  description:
    "Fields left out are kept; null clears presets or filter. Each field set must be allowed by the caller's permissions:update permission.",
  fields: (t) => ({
    fields: t.stringList(),
    presets: t.field({ type: JSONScalar }),
    filter: t.field({ type: JSONScalar }),
  }),
});

builder.queryField('permissions', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: ['Permission'],
    description: 'The permissions the viewer may read (at most 500), optionally of one policy or resource.',
    authScopes: { permission: { resource: 'permissions', action: 'read' } },
    args: { policyId: t.arg.id(), resource: t.arg({ type: AccessResource }) },
    resolve: (query, _root, args, ctx) =>
      ctx.services.permissions.listPermissions(actorOf(ctx), { policyId: idString(args.policyId), resource: args.resource }, query),
  }),
);

builder.queryField('permission', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: 'Permission',
    nullable: true,
    description: 'A permission by id; null when there is none the viewer may read.',
    authScopes: { permission: { resource: 'permissions', action: 'read' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.permissions.findPermission(actorOf(ctx), String(id), query),
  }),
);

builder.mutationField('createPermission', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: 'Permission',
    description: 'Adds a permission to a policy; it counts from the next request.',
    authScopes: { permission: { resource: 'permissions', action: 'create' } },
    args: { input: t.arg({ type: CreatePermissionInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      recordChange(ctx, 'permission.changed', 'create', null, () =>
        ctx.services.permissions.createPermission(actorOf(ctx), { ...input, policy: idString(input.policy) }, query),
      ),
  }),
);

builder.mutationField('updatePermission', (t) =>
  t.prismaField({
    ...hiddenInSupergraph,
    type: 'Permission',
    description: 'Changes a permission the viewer may update (NOT_FOUND otherwise); it counts from the next request.',
    authScopes: { permission: { resource: 'permissions', action: 'update' } },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePermissionInput, required: true }) },
    resolve: (query, _root, { id, input }, ctx) =>
      recordChange(ctx, 'permission.changed', 'update', String(id), () =>
        ctx.services.permissions.updatePermission(actorOf(ctx), String(id), input, query),
      ),
  }),
);

builder.mutationField('deletePermission', (t) =>
  t.boolean({
    ...hiddenInSupergraph,
    description: 'Deletes a permission the viewer may delete (NOT_FOUND otherwise); it counts from the next request.',
    authScopes: { permission: { resource: 'permissions', action: 'delete' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await recordChange(ctx, 'permission.changed', 'delete', String(id), () =>
        ctx.services.permissions.deletePermission(actorOf(ctx), String(id)),
      );
      return true;
    },
  }),
);
