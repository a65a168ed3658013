import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';

export const DEFAULT_POLICIES = {
  public: 'Public',
  user: 'User',
  admin: 'Administrator',
} as const;

/**
 * Creates the default policies once, on an empty database (later edits by an admin are kept):
 * - Public: anonymous requests may create a user with only `email` and `password`; the preset
 *   grants the new user the User policy.
 * - User: what every registered user gets: read their own record, change their own names, see and
 *   end their own sessions (USER_POLICY_PERMISSIONS; a migration gave older installations the same).
 * - Administrator: adminAccess, everything.
 */
const OWN_RECORD = { id: { _eq: '$CURRENT_USER' } };
const OWN_SESSIONS = { userId: { _eq: '$CURRENT_USER' } };

export const USER_POLICY_PERMISSIONS = [
  {
    resource: 'users',
    action: 'read',
    fields: ['id', 'email', 'firstName', 'lastName', 'status', 'role', 'policies', 'createdAt', 'updatedAt', 'twoFactorEnabled'],
    filter: OWN_RECORD,
  },
  { resource: 'users', action: 'update', fields: ['firstName', 'lastName'], filter: OWN_RECORD },
  { resource: 'sessions', action: 'read', fields: ['*'], filter: OWN_SESSIONS },
  { resource: 'sessions', action: 'delete', fields: ['*'], filter: OWN_SESSIONS },
];

export async function ensureDefaultPolicies(db: Database): Promise<void> {
  if ((await db.policy.count()) > 0) return;
  try {
    await createDefaultPolicies(db);
  } catch (error) {
    // Another instance starting at the same moment created them first.
    if (!isUniqueViolation(error)) throw error;
  }
}

async function createDefaultPolicies(db: Database): Promise<void> {
  await db.$transaction(async (tx) => {
    const user = await tx.policy.create({
      data: {
        name: DEFAULT_POLICIES.user,
        description: 'Default policy of registered users.',
        permissions: { create: USER_POLICY_PERMISSIONS },
      },
    });
    await tx.policy.create({
      data: { name: DEFAULT_POLICIES.admin, description: 'Full access.', adminAccess: true },
    });
    await tx.policy.create({
      data: {
        name: DEFAULT_POLICIES.public,
        description: 'Anonymous requests: open registration with email and password only.',
        isPublic: true,
        permissions: {
          create: [{ resource: 'users', action: 'create', fields: ['email', 'password'], presets: { policies: [user.id] } }],
        },
      },
    });
  });
}
