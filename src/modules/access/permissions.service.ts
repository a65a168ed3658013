import type { Database, TransactionClient } from '../../db/client.ts';
import { isRecordNotFound } from '../../db/errors.ts';
import { AppError, badInput, forbiddenField } from '../../errors.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { applyWriteRule, rowsWhere, ruleForRow } from './access.check.ts';
import type { Resource } from './access.types.ts';
import { type AccessActor, filterVars, MAX_LIST, parseId } from './access-admin.validation.ts';
import type { AccessChanges } from './access-changes.ts';
import { checkAction, checkFields, checkFilter, checkPresets, checkResource, type PresetLookups } from './permissions.validation.ts';
import { RoleGraph } from './role-graph.ts';

export interface CreatePermissionInput {
  policy?: string | null;
  resource?: string | null;
  action?: string | null;
  fields?: string[] | null;
  presets?: unknown;
  filter?: unknown;
}

export type UpdatePermissionInput = Pick<CreatePermissionInput, 'fields' | 'presets' | 'filter'>;

export interface PermissionListArgs {
  policyId?: string | null;
  resource?: Resource | null;
}

/** A Prisma `select`/`include` passed through from the GraphQL layer, opaque to this service. */
export type PermissionQuery = Record<string, unknown>;

// The order in which input fields are checked against a permission, so errors are stable.
const CREATE_FIELDS = ['policy', 'resource', 'action', 'fields', 'presets', 'filter'] as const;
// A permission stays on its policy, resource and action; presets naming those do not apply to updates.
const UPDATE_FIELDS = ['fields', 'presets', 'filter'] as const;
const ORDER = [{ policyId: 'asc' as const }, { resource: 'asc' as const }, { action: 'asc' as const }, { id: 'asc' as const }];
const ROW_SELECT = { id: true, policyId: true, resource: true, action: true, policy: { select: { adminAccess: true } } } as const;

/**
 * Permissions: one (resource, action) a policy allows, with the fields, presets and row filter
 * that bound it. Only an admin may change the permissions of a policy that has adminAccess.
 * Every change counts from the next request, on every instance (the policy snapshot is reloaded).
 */
export class PermissionsService {
  constructor(
    private readonly db: Database,
    private readonly accessChanges: AccessChanges,
  ) {}

  /** Narrowing by policy or resource counts as reading that field: only permissions that show it take part. */
  async listPermissions(actor: AccessActor, args: PermissionListArgs, query: PermissionQuery = {}) {
    const searched = [...(args.policyId != null ? ['policy'] : []), ...(args.resource != null ? ['resource'] : [])];
    const allowed = rowsWhere(actor.access, 'permissions', 'read', filterVars(actor), searched);
    const policyId = args.policyId == null ? undefined : parseId(args.policyId);
    if (!allowed || policyId === null) return [];
    return this.db.permission.findMany({
      ...query,
      where: { AND: [allowed, { policyId, resource: args.resource ?? undefined }] },
      orderBy: ORDER,
      take: MAX_LIST,
    });
  }

  /** Null when missing, not an id, or outside the caller's read permissions. */
  async findPermission(actor: AccessActor, id: string, query: PermissionQuery = {}) {
    const permissionId = parseId(id);
    const allowed = rowsWhere(actor.access, 'permissions', 'read', filterVars(actor));
    if (!permissionId || !allowed) return null;
    return this.db.permission.findFirst({ ...query, where: { AND: [{ id: permissionId }, allowed] } });
  }

  async createPermission(actor: AccessActor, input: CreatePermissionInput, query: PermissionQuery = {}) {
    const data = applyWriteRule(actor.access.rule('permissions', 'create'), input, CREATE_FIELDS);
    const policyId = parseId(data.policy);
    if (!policyId) throw badInput('policy', 'names a policy that does not exist');
    const resource = checkResource(data.resource);
    const action = checkAction(data.action);
    const fields = checkFields(resource, action, data.fields);
    const filter = checkFilter(resource, action, data.filter);
    const policy = await this.db.policy.findUnique({ where: { id: policyId }, select: { adminAccess: true } });
    if (!policy) throw badInput('policy', 'names a policy that does not exist');
    if (policy.adminAccess && !actor.access.admin) throw forbiddenField('policy');
    const presets = await checkPresets(resource, action, data.presets, this.lookups(actor));
    const permission = await this.db.permission.create({
      ...query,
      data: { policyId, resource, action, fields, presets: json(presets), filter: json(filter) },
    });
    await this.accessChanges.published([], true);
    return permission;
  }

  /** NOT_FOUND for a permission that is missing or outside the caller's update permissions. */
  async updatePermission(actor: AccessActor, id: string, input: UpdatePermissionInput, query: PermissionQuery = {}) {
    const permission = await this.loadTarget(actor, id, 'update');
    const data = applyWriteRule(permission.rule, input, UPDATE_FIELDS);
    if (permission.policy.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
    const resource = checkResource(permission.resource);
    const action = checkAction(permission.action);
    const fields = data.fields === undefined ? undefined : checkFields(resource, action, data.fields);
    const filter = data.filter === undefined ? undefined : json(checkFilter(resource, action, data.filter));
    const presets = data.presets === undefined ? undefined : json(await checkPresets(resource, action, data.presets, this.lookups(actor)));
    const updated = await this.db.permission
      .update({ ...query, where: { id: permission.id }, data: { fields, presets, filter } })
      .catch((error: unknown) => {
        throw isRecordNotFound(error) ? new AppError('NOT_FOUND', { cause: error }) : error;
      });
    await this.accessChanges.published([], true);
    return updated;
  }

  async deletePermission(actor: AccessActor, id: string): Promise<void> {
    const permission = await this.loadTarget(actor, id, 'delete');
    if (permission.policy.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
    // deleteMany: a permission deleted a moment ago by someone else is simply gone, not an error.
    await this.db.permission.deleteMany({ where: { id: permission.id } });
    await this.accessChanges.published([], true);
  }

  private async loadTarget(actor: AccessActor, id: string, action: 'update' | 'delete') {
    const permissionId = parseId(id);
    const row = permissionId ? await this.db.permission.findUnique({ where: { id: permissionId }, select: ROW_SELECT }) : null;
    const rule = row ? ruleForRow(actor.access, 'permissions', action, row, filterVars(actor)) : null;
    if (!row || !rule) throw new AppError('NOT_FOUND');
    return { ...row, rule };
  }

  /** Existence and admin reach of the roles and policies presets name, as the database has them now. */
  private lookups(actor: AccessActor): PresetLookups {
    return {
      admin: actor.access.admin,
      policies: async (ids) => {
        const rows = await this.db.policy.findMany({ where: { id: { in: [...ids] } }, select: { adminAccess: true } });
        return { missing: rows.length !== ids.length, grantsAdmin: rows.some((p) => p.adminAccess) };
      },
      role: async (id) => {
        const graph = await RoleGraph.load(this.db);
        return { missing: !graph.has(id), grantsAdmin: graph.chainGrantsAdmin(id) };
      },
    };
  }
}

/** Prisma writes SQL NULL for a JSON column only through DbNull. */
function json(value: object | null): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

/**
 * A policy or role that a permission's preset hands out cannot be deleted: the preset would then
 * name nothing, and every create or update through it would fail (e.g. public registration when
 * the User policy goes). BAD_USER_INPUT on `id`, naming no other row.
 */
export async function refuseIfPreset(tx: TransactionClient, presets: Prisma.JsonNullableFilter<'Permission'>, what: string): Promise<void> {
  const user = await tx.permission.findFirst({ where: { presets }, select: { id: true } });
  if (user) throw badInput('id', `this ${what} is named by a permission preset; change that preset first`);
}
