import type { Database } from '../../db/client.ts';
import type { Access, Action, PermissionRule, Resource } from './access.types.ts';

interface LoadedPolicy {
  id: string;
  name: string;
  adminAccess: boolean;
  enforceTwoFactor: boolean;
  permissions: { resource: string; action: string; fields: string[]; presets: unknown }[];
}

interface PolicySnapshot {
  loadedAt: number;
  publicPolicyId: string | null;
  policies: Map<string, LoadedPolicy>;
  idsByName: Map<string, string>;
  accessByKey: Map<string, Access>;
}

/**
 * Holds every policy and permission in memory so that deciding access costs no database round
 * trip. The snapshot is reloaded at most every `maxAgeMs` (policy edits made elsewhere show up
 * within that time) and at once after `invalidate()`.
 */
export class AccessService {
  private snapshot: PolicySnapshot | null = null;
  private loading: Promise<PolicySnapshot> | null = null;

  constructor(
    private readonly db: Database,
    private readonly maxAgeMs = 5000,
  ) {}

  invalidate(): void {
    this.snapshot = null;
  }

  /** Access of an anonymous request: the public policy alone. */
  async publicAccess(): Promise<Access> {
    const snapshot = await this.current();
    return this.accessFor(snapshot, snapshot.publicPolicyId ? [snapshot.publicPolicyId] : []);
  }

  async accessForPolicies(policyIds: readonly string[]): Promise<Access> {
    return this.accessFor(await this.current(), policyIds);
  }

  /**
   * Access for the policy names an access token carries. A name that no longer exists (a policy
   * renamed or deleted since the token was signed) grants nothing: tokens only ever lose access.
   */
  async accessForPolicyNames(names: readonly string[]): Promise<Access> {
    const snapshot = await this.current();
    const ids = names.map((name) => snapshot.idsByName.get(name)).filter((id): id is string => id !== undefined);
    return this.accessFor(snapshot, ids);
  }

  /** The names of a user's policies, as access tokens carry them. */
  async policyNamesOfUser(userId: string): Promise<string[]> {
    const [ids, snapshot] = await Promise.all([this.policyIdsOfUser(userId), this.current()]);
    return ids
      .map((id) => snapshot.policies.get(id)?.name)
      .filter((name): name is string => name !== undefined)
      .sort();
  }

  /** Policies of a user: granted directly, and through their role and the role's ancestors. */
  async policyIdsOfUser(userId: string): Promise<string[]> {
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { roleId: true, policies: { select: { policyId: true } } },
    });
    if (!user) return [];
    const ids = new Set(user.policies.map((p) => p.policyId));
    for (const id of await this.policyIdsOfRole(user.roleId)) ids.add(id);
    return [...ids].sort();
  }

  /** Policies a role grants, its own and its ancestors' (a cycle or a chain past 16 stops). */
  async policyIdsOfRole(startRoleId: string | null): Promise<string[]> {
    const ids = new Set<string>();
    const seenRoles = new Set<string>();
    let roleId = startRoleId;
    while (roleId && !seenRoles.has(roleId) && seenRoles.size < 16) {
      seenRoles.add(roleId);
      const role = await this.db.role.findUnique({
        where: { id: roleId },
        select: { parentId: true, policies: { select: { policyId: true } } },
      });
      for (const p of role?.policies ?? []) ids.add(p.policyId);
      roleId = role?.parentId ?? null;
    }
    return [...ids];
  }

  async policyExists(ids: readonly string[]): Promise<{ missing: string[]; grantsAdmin: boolean }> {
    const snapshot = await this.current();
    const missing = ids.filter((id) => !snapshot.policies.has(id));
    const grantsAdmin = ids.some((id) => snapshot.policies.get(id)?.adminAccess);
    return { missing, grantsAdmin };
  }

  private async current(): Promise<PolicySnapshot> {
    if (this.snapshot && Date.now() - this.snapshot.loadedAt < this.maxAgeMs) return this.snapshot;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<PolicySnapshot> {
    const rows = await this.db.policy.findMany({
      select: {
        id: true,
        name: true,
        isPublic: true,
        adminAccess: true,
        enforceTwoFactor: true,
        permissions: { select: { resource: true, action: true, fields: true, presets: true } },
      },
    });
    const snapshot: PolicySnapshot = {
      loadedAt: Date.now(),
      publicPolicyId: rows.find((r) => r.isPublic)?.id ?? null,
      policies: new Map(rows.map((r) => [r.id, r])),
      idsByName: new Map(rows.map((r) => [r.name, r.id])),
      accessByKey: new Map(),
    };
    this.snapshot = snapshot;
    return snapshot;
  }

  private accessFor(snapshot: PolicySnapshot, policyIds: readonly string[]): Access {
    const key = [...policyIds].sort().join(',');
    const cached = snapshot.accessByKey.get(key);
    if (cached) return cached;
    const policies = policyIds.map((id) => snapshot.policies.get(id)).filter((p): p is LoadedPolicy => !!p);
    const access = buildAccess(policies);
    snapshot.accessByKey.set(key, access);
    return access;
  }
}

const ALL: PermissionRule = { fields: '*', presets: {} };

function buildAccess(policies: LoadedPolicy[]): Access {
  const admin = policies.some((p) => p.adminAccess);
  const rules = new Map<string, PermissionRule>();
  for (const policy of policies) {
    for (const perm of policy.permissions) {
      const key = `${perm.resource}:${perm.action}`;
      const previous = rules.get(key);
      const fields = previous?.fields === '*' || perm.fields.includes('*') ? '*' : new Set([...(previous?.fields ?? []), ...perm.fields]);
      const presets = { ...(previous?.presets ?? {}), ...asRecord(perm.presets) };
      rules.set(key, { fields, presets });
    }
  }
  return {
    policyIds: policies.map((p) => p.id).sort(),
    admin,
    enforceTwoFactor: policies.some((p) => p.enforceTwoFactor),
    rule: (resource: Resource, action: Action) => (admin ? ALL : (rules.get(`${resource}:${action}`) ?? null)),
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
