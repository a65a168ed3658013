import type { Database } from '../../db/client.ts';
import { createIpList, type IpList, isIpOrCidr } from '../../net/ip-list.ts';
import { mergeGrants } from './access.check.ts';
import type { Access, Action, Grant, Resource } from './access.types.ts';
import { referencesCurrentUser } from './permission-filter.ts';

interface LoadedPolicy {
  id: string;
  name: string;
  adminAccess: boolean;
  enforceTwoFactor: boolean;
  /** Null when the policy applies from any address. */
  allowedIps: IpList | null;
  permissions: { resource: string; action: string; fields: string[]; presets: unknown; filter: unknown }[];
}

const MAX_ROLE_DEPTH = 16;
/** Background reloads of a stale snapshot start at most this often while the database fails. */
const RETRY_INTERVAL_MS = 1000;

/** Select this on a user to get what policyIdsOfGrants needs. */
export const USER_GRANTS = { roleId: true, policies: { select: { policyId: true } } } as const;
export interface UserGrants {
  roleId: string | null;
  policies: { policyId: string }[];
}

interface PolicySnapshot {
  loadedAt: number;
  publicPolicyId: string | null;
  policies: Map<string, LoadedPolicy>;
  /** Roles and the policies they grant directly; chains are followed in memory. */
  roles: Map<string, { parentId: string | null; policyIds: string[] }>;
  idsByName: Map<string, string>;
  accessByKey: Map<string, Access>;
}

/**
 * Holds every policy, permission and role in memory so that deciding access costs no database round
 * trip. The snapshot is reloaded in the background once it is `maxAgeMs` old (policy edits made
 * elsewhere show up within about that time), and at once after `invalidate()`.
 *
 * When the database cannot be read, the last good snapshot keeps serving until it is
 * `maxStalenessMs` old (ACCESS_SNAPSHOT_MAX_STALENESS), retried in the background at most once a
 * second; after that, or after an invalidation (a policy edit this snapshot predates), requests
 * wait for a fresh load and fail closed when it fails.
 */
export class AccessService {
  private snapshot: PolicySnapshot | null = null;
  private loading: Promise<PolicySnapshot> | null = null;
  private lastAttemptAt = 0;
  /** Set by invalidate(): the snapshot predates an edit and must not serve another request. */
  private mustReload = false;
  private readonly maxAgeMs: number;
  private readonly maxStalenessMs: number;

  constructor(
    private readonly db: Database,
    options: { maxAgeMs?: number; maxStalenessMs?: number } = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5000;
    this.maxStalenessMs = Math.max(options.maxStalenessMs ?? 60_000, this.maxAgeMs);
  }

  /** Bumped by invalidate(): a load that started before it must not install what it read. */
  private generation = 0;

  /** Changes whenever the policies this instance decides on may have changed (a new snapshot, an invalidation). */
  private version = 0;

  /**
   * A stamp of the policies as this instance knows them now: equal stamps mean that anything
   * computed from the snapshot in between (a login's access token prepared during the hash) is
   * still what a computation now would give.
   */
  accessVersion(): number {
    return this.mustReload ? -1 : this.version;
  }

  invalidate(): void {
    this.generation++;
    this.version++;
    this.mustReload = true;
    this.loading = null;
  }

  /** Access of an anonymous request: the public policy alone. */
  async publicAccess(ip: string | null): Promise<Access> {
    const snapshot = await this.current();
    return this.accessFor(snapshot, snapshot.publicPolicyId ? [snapshot.publicPolicyId] : [], ip);
  }

  /**
   * Access from the given policies, as they stand now. A policy with an IP allow-list applies
   * only to requests from an address on it (and not at all when the address is unknown).
   */
  async accessForPolicies(policyIds: readonly string[], ip: string | null): Promise<Access> {
    return this.accessFor(await this.current(), policyIds, ip);
  }

  /**
   * Access for the policy names an access token carries. A name that no longer exists (a policy
   * renamed or deleted since the token was signed) grants nothing: tokens only ever lose access.
   */
  async accessForPolicyNames(names: readonly string[], ip: string | null): Promise<Access> {
    const snapshot = await this.current();
    const ids = names.map((name) => snapshot.idsByName.get(name)).filter((id): id is string => id !== undefined);
    return this.accessFor(snapshot, ids, ip);
  }

  /** Ids of the policies that grant admin access, as of the current snapshot. */
  async adminPolicyIds(): Promise<string[]> {
    const snapshot = await this.current();
    return [...snapshot.policies.values()].filter((p) => p.adminAccess).map((p) => p.id);
  }

  /** The names of a user's policies, as access tokens carry them. */
  async policyNamesOfUser(userId: string): Promise<string[]> {
    return this.policyNames(await this.policyIdsOfUser(userId));
  }

  /** Policies of a user: granted directly, and through their role and the role's ancestors. */
  async policyIdsOfUser(userId: string): Promise<string[]> {
    const user = await this.db.user.findUnique({ where: { id: userId }, select: USER_GRANTS });
    return user ? this.policyIdsOfGrants(user) : [];
  }

  /**
   * The same from a user row loaded with USER_GRANTS (so hot paths fold it into a query they
   * make anyway); the role chain is followed in the snapshot, costing no round trip.
   */
  async policyIdsOfGrants(user: UserGrants): Promise<string[]> {
    const snapshot = await this.current();
    const ids = new Set(user.policies.map((p) => p.policyId));
    const seen = new Set<string>();
    for (let roleId = user.roleId; roleId && !seen.has(roleId) && seen.size < MAX_ROLE_DEPTH; ) {
      seen.add(roleId);
      const role = snapshot.roles.get(roleId);
      for (const id of role?.policyIds ?? []) ids.add(id);
      roleId = role?.parentId ?? null;
    }
    return [...ids].sort();
  }

  /** Policy names for ids, as access tokens carry them (unknown ids dropped). */
  async policyNames(ids: readonly string[]): Promise<string[]> {
    const snapshot = await this.current();
    return ids
      .map((id) => snapshot.policies.get(id)?.name)
      .filter((name): name is string => name !== undefined)
      .sort();
  }

  /**
   * Policies a role grants, its own and its ancestors' (a cycle or a chain past 16 stops), read
   * from the database: for checks that must not act on a snapshot a few seconds old.
   */
  async policyIdsOfRole(startRoleId: string | null): Promise<string[]> {
    const ids = new Set<string>();
    const seenRoles = new Set<string>();
    let roleId = startRoleId;
    while (roleId && !seenRoles.has(roleId) && seenRoles.size < MAX_ROLE_DEPTH) {
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
    const snapshot = this.mustReload ? null : this.snapshot;
    const age = snapshot ? Date.now() - snapshot.loadedAt : Number.POSITIVE_INFINITY;
    if (snapshot && age < this.maxAgeMs) return snapshot;
    if (snapshot && age < this.maxStalenessMs) {
      // Serve what we have; refresh behind the request (and keep serving it if that fails).
      if (!this.loading && Date.now() - this.lastAttemptAt >= RETRY_INTERVAL_MS) void this.reload().catch(() => {});
      return snapshot;
    }
    return this.reload();
  }

  private reload(): Promise<PolicySnapshot> {
    if (!this.loading) {
      this.lastAttemptAt = Date.now();
      const loading = this.load(this.generation).finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(generation: number): Promise<PolicySnapshot> {
    const roles = await this.db.role.findMany({ select: { id: true, parentId: true, policies: { select: { policyId: true } } } });
    const rows = await this.db.policy.findMany({
      select: {
        id: true,
        name: true,
        isPublic: true,
        adminAccess: true,
        enforceTwoFactor: true,
        ipAllowList: true,
        permissions: { select: { resource: true, action: true, fields: true, presets: true, filter: true } },
      },
    });
    const snapshot: PolicySnapshot = {
      loadedAt: Date.now(),
      publicPolicyId: rows.find((r) => r.isPublic)?.id ?? null,
      policies: new Map(rows.map((r) => [r.id, { ...r, allowedIps: toIpList(r.ipAllowList) }])),
      roles: new Map(roles.map((r) => [r.id, { parentId: r.parentId, policyIds: r.policies.map((p) => p.policyId) }])),
      idsByName: new Map(rows.map((r) => [r.name, r.id])),
      accessByKey: new Map(),
    };
    if (generation === this.generation) {
      this.snapshot = snapshot;
      this.version++;
      this.mustReload = false;
    }
    return snapshot;
  }

  private accessFor(snapshot: PolicySnapshot, policyIds: readonly string[], ip: string | null): Access {
    const policies = policyIds
      .map((id) => snapshot.policies.get(id))
      .filter((p): p is LoadedPolicy => !!p && (p.allowedIps === null || (ip !== null && p.allowedIps.has(ip))));
    const key = policies
      .map((p) => p.id)
      .sort()
      .join(',');
    const cached = snapshot.accessByKey.get(key);
    if (cached) return cached;
    const access = buildAccess(policies);
    snapshot.accessByKey.set(key, access);
    return access;
  }
}

const ALL: Grant = { fields: '*', presets: {}, filter: null, needsViewer: false };

function buildAccess(policies: LoadedPolicy[]): Access {
  const admin = policies.some((p) => p.adminAccess);
  const grants = new Map<string, Grant[]>();
  for (const policy of policies) {
    for (const perm of policy.permissions) {
      const key = `${perm.resource}:${perm.action}`;
      const grant: Grant = {
        fields: perm.fields.includes('*') ? '*' : new Set(perm.fields),
        presets: asRecord(perm.presets),
        filter: perm.filter ?? null,
        needsViewer: referencesCurrentUser(perm.filter),
      };
      grants.set(key, [...(grants.get(key) ?? []), grant]);
    }
  }
  const grantsFor = (resource: Resource, action: Action): readonly Grant[] => (admin ? [ALL] : (grants.get(`${resource}:${action}`) ?? []));
  return {
    policyIds: policies.map((p) => p.id).sort(),
    admin,
    enforceTwoFactor: policies.some((p) => p.enforceTwoFactor),
    can: (resource, action) => grantsFor(resource, action).length > 0,
    rule: (resource, action) => {
      const list = grantsFor(resource, action);
      return list.length === 0 ? null : mergeGrants(list);
    },
    grants: grantsFor,
  };
}

/** Entries were validated when saved; one that does not parse (edited in the database) is dropped, so it allows nothing. */
function toIpList(entries: readonly string[]): IpList | null {
  return entries.length === 0 ? null : createIpList(entries.filter(isIpOrCidr));
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
