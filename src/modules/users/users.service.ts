import type { Config } from '../../config/config.ts';
import { generatePassword } from '../../crypto/password.ts';
import { isUuid } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput, forbiddenField } from '../../errors.ts';
import type { Prisma, User } from '../../generated/prisma/client.ts';
import type { UserStatus } from '../../generated/prisma/enums.ts';
import { applyWriteRule, rowAllowed, rowsWhere, ruleForRow } from '../access/access.check.ts';
import type { AccessService } from '../access/access.service.ts';
import type { Access } from '../access/access.types.ts';
import { type AccessActor, filterVars } from '../access/access-admin.validation.ts';
import type { AccessChanges } from '../access/access-changes.ts';
import { withAdminGuard } from '../access/admin-guard.ts';
import { readAs } from '../access/read-identity.ts';
import { RoleGraph } from '../access/role-graph.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { SessionService } from '../sessions/session.service.ts';
import { NEW_CREDENTIAL_VERSION } from './credential-version.ts';
import { decodeUserCursor, encodeUserCursor } from './user-cursor.ts';
import type { UserRowCache } from './user-rows.ts';
import { checkName, checkNewPassword, normalizeEmail } from './users.validation.ts';

export interface CreateUserInput {
  email: string;
  password: string;
  firstName?: string | null;
  lastName?: string | null;
  status?: UserStatus | null;
  policies?: string[] | null;
  role?: string | null;
}

export type UpdateUserInput = { [K in keyof CreateUserInput]?: CreateUserInput[K] | null };

export interface UserListArgs {
  first?: number | null;
  after?: string | null;
  email?: string | null;
  status?: UserStatus | null;
  roleId?: string | null;
}

// The order in which input fields are checked against a permission, so errors are stable.
const CREATE_FIELDS = ['email', 'password', 'firstName', 'lastName', 'status', 'policies', 'role'] as const;
const OWN_CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(['id', 'email']);
/** The page size of `users` without `first` (the schema's default; the cost limit counts it). */
export const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

/** A Prisma `select`/`include` passed through from the GraphQL layer, opaque to this service. */
export type UserQuery = Record<string, unknown>;

export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly access: AccessService,
    private readonly accessChanges: AccessChanges,
    private readonly sessions: SessionService,
    private readonly config: Config,
    /** Seals list cursors. */
    private readonly cursorKey: Uint8Array,
    private readonly userRows: UserRowCache,
  ) {}

  findById(id: string, query: UserQuery = {}) {
    return this.db.user.findUnique({ ...query, where: { id } });
  }

  /**
   * The viewer's own row, from the row cache (relations asked for beneath `viewer` are loaded by
   * the Prisma plugin from its id). The cache leaves the password hash out, which no field reads.
   */
  findViewer(id: string): Promise<User | null> {
    return this.userRows.get(id) as Promise<User | null>;
  }

  /** Marks a user's row to be read under their own current policies (see ReadIdentity): login and registration results. */
  async asSelf<T extends { id: string }>(user: T, ip: string | null): Promise<T> {
    const access = await this.access.accessForPolicies(await this.access.policyIdsOfUser(user.id), ip);
    return readAs(user, { userId: user.id, access, always: OWN_CREDENTIAL_FIELDS });
  }

  /** A user the actor may read; null when there is none or it lies outside their read permissions. */
  findVisible(actor: AccessActor, id: string, query: UserQuery = {}) {
    const allowed = rowsWhere(actor.access, 'users', 'read', filterVars(actor));
    if (!allowed || !isUuid(id)) return null;
    return this.db.user.findFirst({ ...query, where: { AND: [allowed, { id }] } });
  }

  /**
   * The users among `ids` the actor may read, in one query (federation's `_entities` resolves a
   * whole list of references at once); ids outside their read permissions are simply absent.
   */
  async findVisibleByIds(actor: AccessActor, ids: readonly string[], query: UserQuery = {}) {
    const allowed = rowsWhere(actor.access, 'users', 'read', filterVars(actor));
    const wanted = [...new Set(ids)].filter(isUuid);
    if (!allowed || wanted.length === 0) return [];
    return this.db.user.findMany({ ...query, where: { AND: [allowed, { id: { in: wanted } }] } });
  }

  /**
   * One page of the users the actor may read, oldest first (creation time, then id). Filtering by
   * a column counts as reading it: only rows whose permission opens that field are searched, so a
   * filter cannot test values the actor could not see.
   */
  async listUsers(actor: AccessActor, args: UserListArgs, query: UserQuery = {}) {
    const first = args.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `must be between 1 and ${MAX_PAGE}`);
    const searched = [args.email != null ? 'email' : null, args.status != null ? 'status' : null, args.roleId != null ? 'role' : null];
    const allowed = rowsWhere(
      actor.access,
      'users',
      'read',
      filterVars(actor),
      searched.filter((f): f is string => f !== null),
    );
    if (!allowed) return { edges: [], hasNextPage: false };
    const where: Prisma.UserWhereInput[] = [allowed];
    if (args.email != null) {
      if (args.email.length > 254) throw badInput('email', 'must be at most 254 characters');
      where.push({ email: { contains: args.email.trim().toLowerCase() } });
    }
    if (args.status != null) where.push({ status: args.status });
    if (args.roleId != null) {
      if (!isUuid(args.roleId)) throw badInput('roleId', 'must be a role id');
      where.push({ roleId: args.roleId });
    }
    if (args.after != null) {
      const cursor = decodeUserCursor(this.cursorKey, args.after);
      if (!cursor) throw badInput('after', 'is not a cursor from this list');
      where.push({ OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }] });
    }
    const rows = await this.db.user.findMany({
      ...query,
      where: { AND: where },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: first + 1,
    });
    const users = rows.slice(0, first);
    return {
      edges: users.map((node) => ({ node, cursor: encodeUserCursor(this.cursorKey, node) })),
      hasNextPage: rows.length > first,
    };
  }

  /**
   * Changes a user as the actor may: the row must lie within their users:update permissions
   * (NOT_FOUND otherwise), every field set must be allowed on it (FORBIDDEN naming the first that
   * is not), presets win. Only an admin may change an admin, or hand out admin access. A status
   * other than ACTIVE ends the user's sessions at once; a new password ends all their other
   * sessions and voids reset links; a new email voids reset links too (they went to the old
   * address); either is a new credential version, so logins still checking the old credential
   * fail. New policies or role count from the user's next request. The last active administrator
   * cannot be demoted or suspended (LAST_ADMIN). Nothing is written when any check fails.
   */
  async updateUser(actor: AccessActor, id: string, input: UpdateUserInput, query: UserQuery = {}) {
    const target = await this.loadTarget(actor, id, 'update');
    const data = applyWriteRule(ruleForRow(actor.access, 'users', 'update', target, filterVars(actor)), input, CREATE_FIELDS);
    for (const field of ['email', 'password', 'status', 'policies'] as const) {
      if (data[field] === null) throw badInput(field, 'cannot be null');
    }
    const email = data.email != null ? normalizeEmail(data.email) : undefined;
    if (data.password != null) checkNewPassword(data.password, this.config.passwords);
    const firstName = checkName(data.firstName, 'firstName');
    const lastName = checkName(data.lastName, 'lastName');
    const policyIds = data.policies ? [...new Set(data.policies)] : undefined;
    await this.checkGrants(actor.access, policyIds ?? [], data.role ?? null);
    const passwordHash = data.password != null ? await this.hasher.hash(data.password, 'priority') : undefined;

    const now = new Date();
    const accessChanged = policyIds !== undefined || data.role !== undefined;
    const credentialChanged = passwordHash !== undefined || (email !== undefined && email !== target.email);
    const write = async (tx: Prisma.TransactionClient) => {
      await tx.user.update({
        where: { id },
        data: {
          email,
          passwordHash,
          passwordChangedAt: passwordHash ? now : undefined,
          firstName,
          lastName,
          status: data.status ?? undefined,
          roleId: data.role === undefined ? undefined : data.role,
          accessChangedAt: accessChanged ? now : undefined,
          ...(credentialChanged ? NEW_CREDENTIAL_VERSION : {}),
          policies: policyIds ? { deleteMany: {}, create: policyIds.map((policyId) => ({ policyId })) } : undefined,
        },
      });
      if (passwordHash) await tx.passwordResetToken.updateMany({ where: { userId: id, usedAt: null }, data: { usedAt: now } });
    };
    try {
      // Changes that can take admin access away run under the last-admin guard.
      if (accessChanged || (data.status && data.status !== 'ACTIVE')) await withAdminGuard(this.db, write);
      else await this.db.$transaction(write);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN', { cause: error });
      throw error;
    }
    await this.userRows.changed([id]);

    if (data.status && data.status !== 'ACTIVE') await this.sessions.revokeUserSessions(id, `status-${data.status.toLowerCase()}`);
    else if (passwordHash)
      await this.sessions.revokeUserSessions(id, 'password-set', id === actor.userId ? (actor.sessionId ?? undefined) : undefined);
    if (accessChanged) await this.accessChanges.published([[id, now.getTime()]], false);
    return this.db.user.findUniqueOrThrow({ ...query, where: { id } });
  }

  /**
   * Deletes a user the actor may delete (NOT_FOUND otherwise; only an admin deletes an admin; not
   * the last active admin). Their sessions are revoked in the same transaction and the rows kept,
   * so every instance refuses their access tokens at once.
   */
  async deleteUser(actor: AccessActor, id: string): Promise<void> {
    await this.loadTarget(actor, id, 'delete');
    const revocations = await withAdminGuard(this.db, async (tx) => {
      const revoked = await this.sessions.markUserSessionsRevoked(tx, id, 'user-deleted');
      await tx.user.delete({ where: { id } });
      return revoked;
    });
    await this.sessions.announceRevocations(revocations);
    await this.userRows.changed([id]);
  }

  /** The row the actor wants to change, if their permissions for the action cover it. */
  private async loadTarget(actor: AccessActor, id: string, action: 'update' | 'delete') {
    const target = isUuid(id)
      ? await this.db.user.findUnique({ where: { id }, select: { id: true, email: true, status: true, roleId: true } })
      : null;
    if (!target || !rowAllowed(actor.access, 'users', action, target, filterVars(actor))) throw new AppError('NOT_FOUND');
    // Only an admin changes an admin: anything less could lock them out or take their account.
    if (!actor.access.admin && (await this.access.policyExists(await this.access.policyIdsOfUser(id))).grantsAdmin)
      throw new AppError('FORBIDDEN');
    return target;
  }

  /** Policies and role must exist; granting admin access (directly or through a role chain) takes an admin. */
  private async checkGrants(viewerAccess: Access, policyIds: readonly string[], roleId: string | null): Promise<void> {
    const { missing, grantsAdmin } = await this.access.policyExists(policyIds);
    if (missing.length > 0) throw badInput('policies', 'names a policy that does not exist');
    if (grantsAdmin && !viewerAccess.admin) throw forbiddenField('policies');
    if (roleId !== null) {
      if (!isUuid(roleId) || !(await this.db.role.findUnique({ where: { id: roleId }, select: { id: true } })))
        throw badInput('role', 'names a role that does not exist');
      // A role grants its policies (and its ancestors'): it must not be a back door to admin access.
      const throughRole = await this.access.policyExists(await this.access.policyIdsOfRole(roleId));
      if (throughRole.grantsAdmin && !viewerAccess.admin) throw forbiddenField('role');
    }
  }

  /**
   * The checks of creating a user as the given viewer may (the password's only when given): every provided
   * field must be allowed by the viewer's `users:create` permission (FORBIDDEN names the first one
   * that is not), then the permission's presets are applied over the input; policies and role must
   * exist, and only an administrator grants admin access. createUser and inviteUser share them, so
   * an inviter can grant no more than a creator could.
   */
  async checkNewUser(viewerAccess: Access, input: Omit<CreateUserInput, 'password'> & { password?: string }) {
    const data = applyWriteRule(viewerAccess.rule('users', 'create'), input, CREATE_FIELDS);
    const email = normalizeEmail(data.email);
    if (data.password !== undefined) checkNewPassword(data.password, this.config.passwords);
    const firstName = checkName(data.firstName, 'firstName');
    const lastName = checkName(data.lastName, 'lastName');
    const policyIds = [...new Set(data.policies ?? [])];
    const roleId = data.role ?? null;
    await this.checkGrants(viewerAccess, policyIds, roleId);
    return { data, email, firstName, lastName, policyIds, roleId };
  }

  /**
   * Creates a user as the given viewer may (see checkNewUser). Nothing is written when any check fails.
   */
  async createUser(viewerAccess: Access, input: CreateUserInput, query: UserQuery = {}) {
    const { data, email, firstName, lastName, policyIds } = await this.checkNewUser(viewerAccess, input);

    // Self-registration waits in the standard lane with logins from unknown places; an administrator does not.
    const passwordHash = await this.hasher.hash(data.password as string, viewerAccess.admin ? 'priority' : 'standard');
    try {
      return await this.db.user.create({
        ...query,
        data: {
          email,
          passwordHash,
          firstName,
          lastName,
          status: data.status ?? 'ACTIVE',
          roleId: data.role ?? null,
          policies: { create: policyIds.map((policyId) => ({ policyId })) },
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN', { cause: error });
      throw error;
    }
  }

  /**
   * The first administrator, from ADMIN_EMAIL / ADMIN_PASSWORD, only while nobody (of any status)
   * holds admin access, counted as authorisation counts it: through roles and their parents too.
   */
  async ensureFirstAdmin(adminPolicyName: string): Promise<{ email: string; generatedPassword: string | null } | null> {
    const admin = this.config.admin;
    const policy = await this.db.policy.findUnique({ where: { name: adminPolicyName }, select: { id: true } });
    if (!policy) return null;
    const adminExists = await this.db.user.count({ where: (await RoleGraph.load(this.db)).adminHolders() });
    if (adminExists > 0) return null;
    const generatedPassword = admin.password ? null : generatePassword(this.config.passwords.minLength);
    const password = admin.password ?? (generatedPassword as string);
    checkNewPassword(password, this.config.passwords, 'ADMIN_PASSWORD');
    const email = normalizeEmail(admin.email);
    const passwordHash = await this.hasher.hash(password, 'priority');
    try {
      await this.db.user.create({
        data: { email, passwordHash, status: 'ACTIVE', policies: { create: [{ policyId: policy.id }] } },
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    return { email, generatedPassword };
  }
}
