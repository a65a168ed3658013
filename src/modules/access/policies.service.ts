import type { Database, TransactionClient } from '../../db/client.ts';
import { isRecordNotFound, isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput, forbiddenField } from '../../errors.ts';
import { applyWriteRule, rowsWhere, ruleForRow } from './access.check.ts';
import {
  type AccessActor,
  checkBoolean,
  checkDescription,
  checkIpAllowList,
  checkName,
  filterVars,
  MAX_LIST,
  parseId,
} from './access-admin.validation.ts';
import type { AccessChanges } from './access-changes.ts';
import { withAdminGuard } from './admin-guard.ts';
import { refuseIfPreset } from './permissions.service.ts';
import { RoleGraph } from './role-graph.ts';

export interface PolicyInput {
  name?: string | null;
  description?: string | null;
  adminAccess?: boolean | null;
  enforceTwoFactor?: boolean | null;
  ipAllowList?: string[] | null;
}

/** A Prisma `select`/`include` passed through from the GraphQL layer, opaque to this service. */
export type PolicyQuery = Record<string, unknown>;

// The order in which input fields are checked against a permission, so errors are stable.
const POLICY_FIELDS = ['name', 'description', 'adminAccess', 'enforceTwoFactor', 'ipAllowList'] as const;
const ORDER = [{ name: 'asc' as const }, { id: 'asc' as const }];

/**
 * Policies: what a user may do is the union of the policies they hold. Only an admin may give a
 * policy adminAccess or touch a policy that has it. The public policy (anonymous requests) is
 * never deleted and never grants admin access or requires two-factor authentication. Every
 * change counts from the next request, on every instance; access tokens carry policy names, so
 * renaming or deleting a policy also stamps its holders.
 */
export class PoliciesService {
  constructor(
    private readonly db: Database,
    private readonly accessChanges: AccessChanges,
  ) {}

  async listPolicies(actor: AccessActor, query: PolicyQuery = {}) {
    const allowed = rowsWhere(actor.access, 'policies', 'read', filterVars(actor));
    if (!allowed) return [];
    return this.db.policy.findMany({ ...query, where: allowed, orderBy: ORDER, take: MAX_LIST });
  }

  /** Null when missing, not an id, or outside the caller's read permissions. */
  async findPolicy(actor: AccessActor, id: string, query: PolicyQuery = {}) {
    const policyId = parseId(id);
    const allowed = rowsWhere(actor.access, 'policies', 'read', filterVars(actor));
    if (!policyId || !allowed) return null;
    return this.db.policy.findFirst({ ...query, where: { AND: [{ id: policyId }, allowed] } });
  }

  async createPolicy(actor: AccessActor, input: PolicyInput, query: PolicyQuery = {}) {
    const data = applyWriteRule(actor.access.rule('policies', 'create'), input, POLICY_FIELDS);
    const adminAccess = checkBoolean(data.adminAccess, 'adminAccess');
    if (adminAccess && !actor.access.admin) throw forbiddenField('adminAccess');
    const values = {
      name: checkName(data.name),
      description: checkDescription(data.description),
      adminAccess,
      enforceTwoFactor: checkBoolean(data.enforceTwoFactor, 'enforceTwoFactor'),
      ipAllowList: checkIpAllowList(data.ipAllowList),
    };
    const policy = await this.db.policy.create({ ...query, data: values }).catch((error: unknown) => {
      throw mapWriteError(error);
    });
    await this.accessChanges.published([], true);
    return policy;
  }

  /** NOT_FOUND for a policy that is missing or outside the caller's update permissions. */
  async updatePolicy(actor: AccessActor, id: string, input: PolicyInput, query: PolicyQuery = {}) {
    const policy = await this.loadTarget(actor, id, 'update');
    const data = applyWriteRule(policy.rule, input, POLICY_FIELDS);
    if (policy.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
    const adminAccess = data.adminAccess === undefined ? undefined : checkBoolean(data.adminAccess, 'adminAccess');
    if (adminAccess && !actor.access.admin) throw forbiddenField('adminAccess');
    const enforceTwoFactor = data.enforceTwoFactor === undefined ? undefined : checkBoolean(data.enforceTwoFactor, 'enforceTwoFactor');
    if (policy.isPublic && adminAccess) throw badInput('adminAccess', 'cannot be given to the public policy');
    if (policy.isPublic && enforceTwoFactor) throw badInput('enforceTwoFactor', 'cannot be required by the public policy');
    const values = {
      name: data.name === undefined ? undefined : checkName(data.name),
      description: data.description === undefined ? undefined : checkDescription(data.description),
      adminAccess,
      enforceTwoFactor,
      ipAllowList: data.ipAllowList === undefined ? undefined : checkIpAllowList(data.ipAllowList),
    };
    const renamed = values.name !== undefined && values.name !== policy.name;
    const demoted = policy.adminAccess && adminAccess === false;

    const change = async (tx: TransactionClient) => {
      const current = await tx.policy.findUnique({ where: { id: policy.id }, select: { adminAccess: true } });
      if (!current) throw new AppError('NOT_FOUND');
      if (current.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
      // Access tokens name their policies: a token naming the old name must no longer speak for its holders.
      const stamps = renamed ? await this.accessChanges.stampUsers(tx, (await RoleGraph.load(tx)).holdersOf([policy.id])) : [];
      const updated = await tx.policy.update({ ...query, where: { id: policy.id }, data: values });
      return { updated, stamps };
    };
    try {
      const { updated, stamps } = demoted ? await withAdminGuard(this.db, change) : await this.db.$transaction(change);
      await this.accessChanges.published(stamps, true);
      return updated;
    } catch (error) {
      throw mapWriteError(error);
    }
  }

  /** Its holders (directly or through a role) lose it from their next request. */
  async deletePolicy(actor: AccessActor, id: string): Promise<void> {
    const policy = await this.loadTarget(actor, id, 'delete');
    if (policy.isPublic) throw new AppError('FORBIDDEN', { message: 'The public policy cannot be deleted.' });
    if (policy.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
    try {
      const stamps = await withAdminGuard(this.db, async (tx) => {
        const current = await tx.policy.findUnique({ where: { id: policy.id }, select: { adminAccess: true } });
        if (!current) throw new AppError('NOT_FOUND');
        if (current.adminAccess && !actor.access.admin) throw new AppError('FORBIDDEN');
        await refuseIfPreset(tx, { path: ['policies'], array_contains: [policy.id] }, 'policy');
        // Before the delete, while the join rows that make them holders still exist.
        const stamped = await this.accessChanges.stampUsers(tx, (await RoleGraph.load(tx)).holdersOf([policy.id]));
        await tx.policy.delete({ where: { id: policy.id } });
        return stamped;
      });
      await this.accessChanges.published(stamps, true);
    } catch (error) {
      throw mapWriteError(error);
    }
  }

  private async loadTarget(actor: AccessActor, id: string, action: 'update' | 'delete') {
    const policyId = parseId(id);
    const row = policyId
      ? await this.db.policy.findUnique({
          where: { id: policyId },
          select: { id: true, name: true, isPublic: true, adminAccess: true },
        })
      : null;
    const rule = row ? ruleForRow(actor.access, 'policies', action, row, filterVars(actor)) : null;
    if (!row || !rule) throw new AppError('NOT_FOUND');
    return { ...row, rule };
  }
}

function mapWriteError(error: unknown): unknown {
  if (isUniqueViolation(error)) return badInput('name', 'is already taken');
  if (isRecordNotFound(error)) return new AppError('NOT_FOUND', { cause: error });
  return error;
}
