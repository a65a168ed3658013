import type { Config } from '../../config/config.ts';
import { hashPassword } from '../../crypto/password.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError, badInput, forbiddenField } from '../../errors.ts';
import type { UserStatus } from '../../generated/prisma/enums.ts';
import type { AccessService } from '../access/access.service.ts';
import type { Access } from '../access/access.types.ts';
import { checkName, checkPasswordLength, normalizeEmail } from './users.validation.ts';

export interface CreateUserInput {
  email: string;
  password: string;
  firstName?: string | null;
  lastName?: string | null;
  status?: UserStatus | null;
  policies?: string[] | null;
  role?: string | null;
}

// The order in which input fields are checked against a permission, so errors are stable.
const CREATE_FIELDS = ['email', 'password', 'firstName', 'lastName', 'status', 'policies', 'role'] as const;

/** A Prisma `select`/`include` passed through from the GraphQL layer, opaque to this service. */
export type UserQuery = Record<string, unknown>;

export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly config: Config,
  ) {}

  findById(id: string, query: UserQuery = {}) {
    return this.db.user.findUnique({ ...query, where: { id } });
  }

  /**
   * Creates a user as the given viewer may: every provided field must be allowed by the viewer's
   * `users:create` permission (FORBIDDEN names the first one that is not), then the permission's
   * presets are applied over the input. Nothing is written when any check fails.
   */
  async createUser(viewerAccess: Access, input: CreateUserInput, query: UserQuery = {}) {
    const rule = viewerAccess.rule('users', 'create');
    if (!rule) throw new AppError('FORBIDDEN');
    for (const field of CREATE_FIELDS) {
      if (input[field] !== undefined && rule.fields !== '*' && !rule.fields.has(field)) throw forbiddenField(field);
    }
    const data = { ...input, ...rule.presets } as CreateUserInput;

    const email = normalizeEmail(data.email);
    checkPasswordLength(data.password, this.config.passwords);
    const firstName = checkName(data.firstName, 'firstName');
    const lastName = checkName(data.lastName, 'lastName');
    const policyIds = [...new Set(data.policies ?? [])];
    const { missing, grantsAdmin } = await this.access.policyExists(policyIds);
    if (missing.length > 0) throw badInput('policies', 'names a policy that does not exist');
    if (grantsAdmin && !viewerAccess.admin) throw forbiddenField('policies');
    if (data.role) {
      if (!(await this.db.role.findUnique({ where: { id: data.role }, select: { id: true } })))
        throw badInput('role', 'names a role that does not exist');
      // A role grants its policies (and its ancestors'): it must not be a back door to admin access.
      const throughRole = await this.access.policyExists(await this.access.policyIdsOfRole(data.role));
      if (throughRole.grantsAdmin && !viewerAccess.admin) throw forbiddenField('role');
    }

    const passwordHash = await hashPassword(data.password, this.config.passwords.argon2);
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

  /** The first administrator, from ADMIN_EMAIL / ADMIN_PASSWORD, only while no admin exists. */
  async ensureFirstAdmin(adminPolicyName: string): Promise<{ email: string; generatedPassword: string | null } | null> {
    const admin = this.config.admin;
    const policy = await this.db.policy.findUnique({ where: { name: adminPolicyName }, select: { id: true } });
    if (!policy) return null;
    const adminExists = await this.db.user.count({ where: { policies: { some: { policy: { adminAccess: true } } } } });
    if (adminExists > 0) return null;
    const generatedPassword = admin.password ? null : randomPassword();
    const password = admin.password ?? (generatedPassword as string);
    checkPasswordLength(password, this.config.passwords, 'ADMIN_PASSWORD');
    const email = normalizeEmail(admin.email);
    const passwordHash = await hashPassword(password, this.config.passwords.argon2);
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

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}
