import type { Database, TransactionClient } from '../../db/client.ts';
import { AppError } from '../../errors.ts';

/** One lock id for every change that can take admin access away; held until the transaction ends. */
const ADMIN_CHANGES_LOCK = 7_406_611;
const MAX_ROLE_DEPTH = 16;

/**
 * Runs a change that may take admin access away from someone (a user's status, policies or role;
 * a policy's adminAccess; a role's policies or parent; a deletion) in one transaction, and commits
 * it only if an active administrator remains afterwards (LAST_ADMIN otherwise, nothing written).
 * Such changes are serialised by an advisory lock, so two admins demoting each other at the same
 * moment cannot both succeed.
 */
export async function withAdminGuard<T>(db: Database, change: (tx: TransactionClient) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${ADMIN_CHANGES_LOCK})`);
    // With no admin to begin with (all were removed by hand), changes are not blocked: npm run admin:create is the way back.
    const before = await countActiveAdmins(tx);
    const result = await change(tx);
    if (before > 0 && (await countActiveAdmins(tx)) === 0) throw new AppError('LAST_ADMIN');
    return result;
  });
}

/** Active users holding a policy with adminAccess, directly or through their role or its ancestors. */
export async function countActiveAdmins(tx: TransactionClient): Promise<number> {
  const adminPolicyIds = (await tx.policy.findMany({ where: { adminAccess: true }, select: { id: true } })).map((p) => p.id);
  if (adminPolicyIds.length === 0) return 0;
  const roles = await tx.role.findMany({ select: { id: true, parentId: true, policies: { select: { policyId: true } } } });
  const byId = new Map(roles.map((r) => [r.id, r]));
  const adminPolicies = new Set(adminPolicyIds);
  const adminRoleIds = roles
    .filter((role) => {
      let current: (typeof roles)[number] | undefined = role;
      for (let depth = 0; current && depth < MAX_ROLE_DEPTH; depth++) {
        if (current.policies.some((p) => adminPolicies.has(p.policyId))) return true;
        current = current.parentId ? byId.get(current.parentId) : undefined;
      }
      return false;
    })
    .map((r) => r.id);
  return tx.user.count({
    where: { status: 'ACTIVE', OR: [{ policies: { some: { policyId: { in: adminPolicyIds } } } }, { roleId: { in: adminRoleIds } }] },
  });
}
