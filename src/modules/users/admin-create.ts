import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError } from '../../errors.ts';
import { DEFAULT_POLICIES } from '../access/access.bootstrap.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { checkNewPassword, normalizeEmail } from './users.validation.ts';

/** The client or a transaction on it: all this needs is the two tables. */
type Tables = Pick<Database, 'policy' | 'user'>;

export interface CreateAdministratorInput {
  email: string;
  password: string;
}

export interface CreatedAdministrator {
  id: string;
  email: string;
  /** Name of the policy granted: DEFAULT_POLICIES.admin, or the admin policy that stood in for it. */
  policy: string;
}

/**
 * An operator's way to add an administrator after the first one (`npm run admin:create`): a new,
 * ACTIVE user holding the Administrator policy, or, when an admin renamed or deleted that one (or
 * took its adminAccess away), the oldest policy with adminAccess. It never touches an existing account: promoting one from a shell
 * would let whoever controls that account's email or password become an administrator unnoticed.
 */
export async function createAdministrator(
  db: Tables,
  config: Config,
  hasher: PasswordHasher,
  input: CreateAdministratorInput,
): Promise<CreatedAdministrator> {
  const email = normalizeEmail(input.email);
  checkNewPassword(input.password, config.passwords);
  const policy = await findAdminPolicy(db);
  if (!policy) {
    // No administrator can fix this through the API either (granting adminAccess needs it): say how, in SQL.
    throw new Error(
      `No policy has adminAccess, so there is nothing to make an administrator with. Give one adminAccess first, e.g. ` +
        `UPDATE "Policy" SET "adminAccess" = true WHERE name = '${DEFAULT_POLICIES.admin}';`,
    );
  }
  if (await db.user.findUnique({ where: { email }, select: { id: true } })) throw emailTaken(email);

  const passwordHash = await hasher.hash(input.password, 'priority');
  try {
    const user = await db.user.create({
      data: { email, passwordHash, status: 'ACTIVE', policies: { create: [{ policyId: policy.id }] } },
      select: { id: true, email: true },
    });
    return { ...user, policy: policy.name };
  } catch (error) {
    // The same email registered between the check above and this insert.
    if (isUniqueViolation(error)) throw emailTaken(email, error);
    throw error;
  }
}

async function findAdminPolicy(db: Tables): Promise<{ id: string; name: string } | null> {
  const select = { id: true, name: true, adminAccess: true } as const;
  const named = await db.policy.findUnique({ where: { name: DEFAULT_POLICIES.admin }, select });
  // A policy still named Administrator whose adminAccess an admin turned off is not an admin policy.
  if (named?.adminAccess) return { id: named.id, name: named.name };
  return db.policy.findFirst({
    where: { adminAccess: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, name: true },
  });
}

function emailTaken(email: string, cause?: unknown): AppError {
  return new AppError('EMAIL_TAKEN', {
    message: `A user with the email ${email} already exists. It was left unchanged: admin:create only creates new accounts and never promotes an existing one.`,
    cause,
  });
}
