import type { Database, TransactionClient } from '../../db/client.ts';
import { isRecordNotFound, isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput, forbiddenField } from '../../errors.ts';
import { applyWriteRule, rowsWhere, ruleForRow } from './access.check.ts';
import {
  type AccessActor,
  checkDescription,
  checkIdList,
  checkName,
  checkOptionalId,
  filterVars,
  MAX_LIST,
  parseId,
} from './access-admin.validation.ts';
import type { AccessChanges } from './access-changes.ts';
import { withAdminGuard } from './admin-guard.ts';
import { refuseIfPreset } from './permissions.service.ts';
import { MAX_ROLE_DEPTH, RoleGraph } from './role-graph.ts';

export interface RoleInput {
  name?: string | null;
  description?: string | null;
  parent?: string | null;
  policies?: string[] | null;
}

/** A Prisma `select`/`include` passed through from the GraphQL layer, opaque to this service. */
export type RoleQuery = Record<string, unknown>;

// The order in which input fields are checked against a permission, so errors are stable.
const ROLE_FIELDS = ['name', 'description', 'parent', 'policies'] as const;
const ORDER = [{ name: 'asc' as const }, { id: 'asc' as const }];

/**
 * Roles: named bundles of policies that users get through their one role, inheriting the
 * policies of the role's ancestors. What a non-admin may do is bounded by admin access: no role
 * they create or edit may lead to a policy with adminAccess, and roles that already do are theirs
 * to leave alone. Changes to a role's policies or parent reach its users (and those of the roles
 * below it) on their next request.
 */
export class RolesService {
  constructor(
    private readonly db: Database,
    private readonly accessChanges: AccessChanges,
  ) {}

  async listRoles(actor: AccessActor, query: RoleQuery = {}) {
    const allowed = rowsWhere(actor.access, 'roles', 'read', filterVars(actor));
    if (!allowed) return [];
    return this.db.role.findMany({ ...query, where: allowed, orderBy: ORDER, take: MAX_LIST });
  }

  /** Null when missing, not an id, or outside the caller's read permissions. */
  async findRole(actor: AccessActor, id: string, query: RoleQuery = {}) {
    const roleId = parseId(id);
    const allowed = rowsWhere(actor.access, 'roles', 'read', filterVars(actor));
    if (!roleId || !allowed) return null;
    return this.db.role.findFirst({ ...query, where: { AND: [{ id: roleId }, allowed] } });
  }

  async createRole(actor: AccessActor, input: RoleInput, query: RoleQuery = {}) {
    const data = applyWriteRule(actor.access.rule('roles', 'create'), input, ROLE_FIELDS);
    const name = checkName(data.name);
    const description = checkDescription(data.description);
    const parentId = checkOptionalId(data.parent, 'parent', 'role');
    const policyIds = checkIdList(data.policies, 'policies', 'policy');
    try {
      // A new role has no users: no one's access changes, so no admin guard and nothing to stamp.
      const created = await this.db.$transaction(async (tx) => {
        const graph = await RoleGraph.load(tx);
        if (parentId) checkParent(actor, graph, null, parentId);
        await checkPolicies(actor, tx, graph, policyIds);
        return tx.role.create({
          ...query,
          data: { name, description, parentId, policies: { create: policyIds.map((policyId) => ({ policyId })) } },
        });
      });
      // The policy snapshot holds the roles too: users given this role next must find it there.
      await this.accessChanges.published([], true);
      return created;
    } catch (error) {
      throw mapWriteError(error);
    }
  }

  /** NOT_FOUND for a role that is missing or outside the caller's update permissions. */
  async updateRole(actor: AccessActor, id: string, input: RoleInput, query: RoleQuery = {}) {
    const role = await this.loadTarget(actor, id, 'update');
    const data = applyWriteRule(role.rule, input, ROLE_FIELDS);
    const name = data.name === undefined ? undefined : checkName(data.name);
    const description = data.description === undefined ? undefined : checkDescription(data.description);
    const parentId = data.parent === undefined ? undefined : checkOptionalId(data.parent, 'parent', 'role');
    const policyIds = data.policies === undefined ? undefined : checkIdList(data.policies, 'policies', 'policy');
    // Whose policies this changes: the role's users and those of every role below it.
    const accessChanged = (parentId !== undefined && parentId !== role.parentId) || policyIds !== undefined;

    const change = async (tx: TransactionClient) => {
      const graph = await RoleGraph.load(tx);
      if (!graph.has(role.id)) throw new AppError('NOT_FOUND');
      if (!actor.access.admin && graph.chainGrantsAdmin(role.id)) throw new AppError('FORBIDDEN');
      if (parentId) checkParent(actor, graph, role.id, parentId);
      if (policyIds) await checkPolicies(actor, tx, graph, policyIds);
      // Stamped before the change, while the role's users are still found through it.
      const stamps = accessChanged ? await this.accessChanges.stampUsers(tx, graph.usersOf(role.id)) : [];
      const updated = await tx.role.update({
        ...query,
        where: { id: role.id },
        data: {
          name,
          description,
          parentId,
          policies: policyIds ? { deleteMany: {}, create: policyIds.map((policyId) => ({ policyId })) } : undefined,
        },
      });
      return { updated, stamps };
    };
    try {
      // Taking a policy or parent away can take admin access away: the last admin must remain.
      const { updated, stamps } = accessChanged ? await withAdminGuard(this.db, change) : await this.db.$transaction(change);
      if (accessChanged) await this.accessChanges.published(stamps, true);
      return updated;
    } catch (error) {
      throw mapWriteError(error);
    }
  }

  /** Users of the role (and of roles below it, which lose its policies) count from their next request. */
  async deleteRole(actor: AccessActor, id: string): Promise<void> {
    const role = await this.loadTarget(actor, id, 'delete');
    try {
      const stamps = await withAdminGuard(this.db, async (tx) => {
        const graph = await RoleGraph.load(tx);
        if (!graph.has(role.id)) throw new AppError('NOT_FOUND');
        if (!actor.access.admin && graph.chainGrantsAdmin(role.id)) throw new AppError('FORBIDDEN');
        await refuseIfPreset(tx, { path: ['role'], equals: role.id }, 'role');
        // Before the delete: afterwards its users' roleId is already null.
        const stamped = await this.accessChanges.stampUsers(tx, graph.usersOf(role.id));
        await tx.role.delete({ where: { id: role.id } });
        return stamped;
      });
      await this.accessChanges.published(stamps, true);
    } catch (error) {
      throw mapWriteError(error);
    }
  }

  private async loadTarget(actor: AccessActor, id: string, action: 'update' | 'delete') {
    const roleId = parseId(id);
    const row = roleId ? await this.db.role.findUnique({ where: { id: roleId }, select: { id: true, name: true, parentId: true } }) : null;
    const rule = row ? ruleForRow(actor.access, 'roles', action, row, filterVars(actor)) : null;
    if (!row || !rule) throw new AppError('NOT_FOUND');
    return { ...row, rule };
  }
}

/** The parent must exist, must not be the role or below it, and must not lead a non-admin to admin access. */
function checkParent(actor: AccessActor, graph: RoleGraph, roleId: string | null, parentId: string): void {
  if (!graph.has(parentId)) throw badInput('parent', 'names a role that does not exist');
  if (roleId && graph.wouldCycle(roleId, parentId)) throw badInput('parent', 'would make the role its own ancestor');
  const depth = roleId ? graph.depthUnder(roleId, parentId) : graph.chain(parentId).length + 1;
  if (depth > MAX_ROLE_DEPTH) throw badInput('parent', `would nest roles more than ${MAX_ROLE_DEPTH} deep`);
  if (!actor.access.admin && graph.chainGrantsAdmin(parentId)) throw forbiddenField('parent');
}

async function checkPolicies(actor: AccessActor, tx: TransactionClient, graph: RoleGraph, policyIds: readonly string[]): Promise<void> {
  if (policyIds.length === 0) return;
  const found = await tx.policy.count({ where: { id: { in: [...policyIds] } } });
  if (found !== policyIds.length) throw badInput('policies', 'names a policy that does not exist');
  if (!actor.access.admin && policyIds.some((id) => graph.isAdminPolicy(id))) throw forbiddenField('policies');
}

function mapWriteError(error: unknown): unknown {
  if (isUniqueViolation(error)) return badInput('name', 'is already taken');
  if (isRecordNotFound(error)) return new AppError('NOT_FOUND', { cause: error });
  return error;
}
