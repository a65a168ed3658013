import type { Database, TransactionClient } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import { RoleGraph } from './role-graph.ts';

/** One lock id for every change that can take admin access away; held until the transaction ends. */
const ADMIN_CHANGES_LOCK = 7_406_611;

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
  const graph = await RoleGraph.load(tx);
  return tx.user.count({ where: { AND: [{ status: 'ACTIVE' }, graph.adminHolders()] } });
}
