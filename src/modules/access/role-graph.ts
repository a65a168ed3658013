import type { TransactionClient } from '../../db/client.ts';
import type { Prisma } from '../../generated/prisma/client.ts';

/** Matches AccessService and the admin guard: policies past this depth of a role chain do not count. */
export const MAX_ROLE_DEPTH = 16;

interface RoleNode {
  id: string;
  parentId: string | null;
  policyIds: string[];
}

/**
 * Every role with its parent and own policies, read inside a transaction: what the admin services
 * need to answer "does this chain grant admin access", "whose policies does this change touch"
 * and "would this parent make a cycle". Roles are few (an administrator makes each one), so
 * the whole graph is one query.
 */
export class RoleGraph {
  private readonly roles: Map<string, RoleNode>;
  private readonly children = new Map<string, string[]>();

  private constructor(
    roles: RoleNode[],
    private readonly adminPolicyIds: ReadonlySet<string>,
  ) {
    this.roles = new Map(roles.map((role) => [role.id, role]));
    for (const role of roles) {
      if (role.parentId) this.children.set(role.parentId, [...(this.children.get(role.parentId) ?? []), role.id]);
    }
  }

  static async load(tx: TransactionClient): Promise<RoleGraph> {
    const [roles, adminPolicies] = await Promise.all([
      tx.role.findMany({ select: { id: true, parentId: true, policies: { select: { policyId: true } } } }),
      tx.policy.findMany({ where: { adminAccess: true }, select: { id: true } }),
    ]);
    return new RoleGraph(
      roles.map((r) => ({ id: r.id, parentId: r.parentId, policyIds: r.policies.map((p) => p.policyId) })),
      new Set(adminPolicies.map((p) => p.id)),
    );
  }

  has(roleId: string): boolean {
    return this.roles.has(roleId);
  }

  isAdminPolicy(policyId: string): boolean {
    return this.adminPolicyIds.has(policyId);
  }

  /** The role and its ancestors, nearest first, as far as access is computed. */
  chain(roleId: string | null): string[] {
    const ids: string[] = [];
    let current = roleId ? this.roles.get(roleId) : undefined;
    while (current && !ids.includes(current.id) && ids.length < MAX_ROLE_DEPTH) {
      ids.push(current.id);
      current = current.parentId ? this.roles.get(current.parentId) : undefined;
    }
    return ids;
  }

  /** Whether a user of this role would hold a policy with adminAccess. */
  chainGrantsAdmin(roleId: string | null): boolean {
    return this.chain(roleId).some((id) => this.roles.get(id)?.policyIds.some((p) => this.adminPolicyIds.has(p)));
  }

  /** The role and every role below it: whose users inherit its policies. */
  withDescendants(roleIds: readonly string[]): string[] {
    const seen = new Set<string>();
    const queue = [...roleIds];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      if (seen.has(id)) continue;
      seen.add(id);
      queue.push(...(this.children.get(id) ?? []));
    }
    return [...seen];
  }

  /** Whether `parentId` is the role itself or below it: making it the parent would close a loop. */
  wouldCycle(roleId: string, parentId: string): boolean {
    return this.withDescendants([roleId]).includes(parentId);
  }

  /** How many levels a chain would have with the role (and everything below it) under `parentId`. */
  depthUnder(roleId: string, parentId: string): number {
    return this.chain(parentId).length + this.height(roleId, new Set());
  }

  /**
   * Users who hold admin access as authorisation computes it: a policy with adminAccess granted
   * directly, or through their role's chain (as far as MAX_ROLE_DEPTH, like AccessService).
   */
  adminHolders(): Prisma.UserWhereInput {
    const adminRoles = [...this.roles.keys()].filter((id) => this.chainGrantsAdmin(id));
    return { OR: [{ policies: { some: { policyId: { in: [...this.adminPolicyIds] } } } }, { roleId: { in: adminRoles } }] };
  }

  /** Users who hold the policy directly or through a role (their role or an ancestor of it holds it). */
  holdersOf(policyIds: readonly string[]): Prisma.UserWhereInput {
    const granting = [...this.roles.values()].filter((r) => r.policyIds.some((p) => policyIds.includes(p))).map((r) => r.id);
    return { OR: [{ policies: { some: { policyId: { in: [...policyIds] } } } }, { roleId: { in: this.withDescendants(granting) } }] };
  }

  /** Users whose policies come partly through this role: its own users and those of roles below it. */
  usersOf(roleId: string): Prisma.UserWhereInput {
    return { roleId: { in: this.withDescendants([roleId]) } };
  }

  private height(roleId: string, seen: Set<string>): number {
    if (seen.has(roleId)) return 0;
    seen.add(roleId);
    const below = (this.children.get(roleId) ?? []).map((child) => this.height(child, seen));
    return 1 + Math.max(0, ...below);
  }
}
