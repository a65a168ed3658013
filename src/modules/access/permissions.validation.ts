import { AppError, badInput, forbiddenField } from '../../errors.ts';
import { UserStatus } from '../../generated/prisma/enums.ts';
import { ACTIONS, type Action, RESOURCE_FIELDS, RESOURCES, type Resource } from './access.types.ts';
import {
  checkBoolean,
  checkDescription,
  checkIdList,
  checkIpAllowList,
  checkName,
  checkOptionalId,
  MAX_IDS,
} from './access-admin.validation.ts';
import { type Filter, validateFilter } from './permission-filter.ts';

/**
 * What a saved permission may say. Its fields must be ones the resource exposes for the action
 * (reserved columns such as password hashes are not among them); presets are values forced onto
 * created or updated rows, so they are checked like the input they replace, and one that would
 * hand out admin access needs an admin to save it; filters only narrow rows that exist.
 */

/** The look-ups preset checks need, answered by the service from the database. */
export interface PresetLookups {
  /** Whether the caller holds admin access. */
  admin: boolean;
  /** Whether every id names a policy, and whether any of them has adminAccess. */
  policies(ids: readonly string[]): Promise<{ missing: boolean; grantsAdmin: boolean }>;
  /** Whether the id names a role, and whether its chain leads to a policy with adminAccess. */
  role(id: string): Promise<{ missing: boolean; grantsAdmin: boolean }>;
}

const MAX_FIELD_NAME = 100;
const MAX_PRESETS_JSON = 10_000;
/** Presets may not choose credentials or addresses for the rows they create. */
const NEVER_PRESET: Partial<Record<Resource, readonly string[]>> = { users: ['email', 'password'] };

export function checkResource(value: unknown): Resource {
  if (!(RESOURCES as readonly unknown[]).includes(value)) throw badInput('resource', `must be one of ${RESOURCES.join(', ')}`);
  return value as Resource;
}

export function checkAction(value: unknown): Action {
  if (!(ACTIONS as readonly unknown[]).includes(value)) throw badInput('action', `must be one of ${ACTIONS.join(', ')}`);
  return value as Action;
}

/**
 * `*` or field names the resource offers for the action: its read fields for read, its write
 * fields for create and update. Anything else gives FORBIDDEN naming it. Delete concerns whole
 * rows: its fields are always `*`.
 */
export function checkFields(resource: Resource, action: Action, value: unknown): string[] {
  if (action === 'delete') return ['*'];
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_IDS) throw badInput('fields', `must be a list of at most ${MAX_IDS} field names`);
  const allowed = action === 'read' ? RESOURCE_FIELDS[resource].read : RESOURCE_FIELDS[resource].write;
  for (const field of value) {
    if (typeof field !== 'string') throw badInput('fields', 'must be a list of field names');
    if (field !== '*' && !allowed.includes(field)) throw forbiddenField(field.slice(0, MAX_FIELD_NAME), 'grant');
  }
  const fields = [...new Set(value as string[])];
  return fields.includes('*') ? ['*'] : fields;
}

/** Row filters narrow read, update and delete; a row being created has nothing to filter. */
export function checkFilter(resource: Resource, action: Action, value: unknown): Filter | null {
  if (value === null || value === undefined) return null;
  if (action === 'create') throw badInput('filter', 'applies only to read, update and delete');
  return validateFilter(resource, value);
}

/** Presets apply to create and update: a JSON object whose keys are write fields of the resource. */
export async function checkPresets(
  resource: Resource,
  action: Action,
  value: unknown,
  lookups: PresetLookups,
): Promise<Record<string, unknown> | null> {
  if (value === null || value === undefined) return null;
  if (action !== 'create' && action !== 'update') throw badInput('presets', 'apply only to create and update');
  if (typeof value !== 'object' || Array.isArray(value)) throw badInput('presets', 'must be a JSON object');
  if (JSON.stringify(value).length > MAX_PRESETS_JSON) throw badInput('presets', 'is too large');
  const presets = value as Record<string, unknown>;
  for (const key of Object.keys(presets)) {
    if (!RESOURCE_FIELDS[resource].write.includes(key) || NEVER_PRESET[resource]?.includes(key))
      throw forbiddenField(key.slice(0, MAX_FIELD_NAME), 'preset');
  }
  for (const [key, preset] of Object.entries(presets)) {
    try {
      await checkPresetValue(resource, key, preset, lookups);
    } catch (error) {
      // Reported on `presets`, with the key in the message: "presets.role: names a role that does not exist".
      if (error instanceof AppError && error.code === 'BAD_USER_INPUT')
        throw new AppError('BAD_USER_INPUT', { message: `presets.${error.message}`, extensions: { field: 'presets' } });
      throw error;
    }
  }
  return Object.keys(presets).length === 0 ? null : presets;
}

/** Values are checked as the same field given as input would be; FORBIDDEN (naming the key) for one that grants admin access. */
async function checkPresetValue(resource: Resource, key: string, value: unknown, lookups: PresetLookups): Promise<void> {
  const requireAdmin = (grantsAdmin: boolean) => {
    if (grantsAdmin && !lookups.admin) throw forbiddenField(key, 'preset');
  };
  const policyList = async () => {
    const ids = checkIdList(value, key, 'policy');
    const found = await lookups.policies(ids);
    if (found.missing) throw badInput(key, 'names a policy that does not exist');
    requireAdmin(found.grantsAdmin);
  };
  const policyRef = async () => {
    const id = checkOptionalId(value, key, 'policy');
    if (!id) throw badInput(key, 'names a policy that does not exist');
    const found = await lookups.policies([id]);
    if (found.missing) throw badInput(key, 'names a policy that does not exist');
    requireAdmin(found.grantsAdmin);
  };
  const roleRef = async () => {
    const id = checkOptionalId(value, key, 'role');
    if (!id) return;
    const found = await lookups.role(id);
    if (found.missing) throw badInput(key, 'names a role that does not exist');
    requireAdmin(found.grantsAdmin);
  };
  switch (`${resource}.${key}`) {
    case 'users.firstName':
    case 'users.lastName':
      if (value !== null) checkName(value, key);
      return;
    case 'users.status':
      if (!Object.values(UserStatus).includes(value as UserStatus))
        throw badInput(key, `must be one of ${Object.values(UserStatus).join(', ')}`);
      return;
    case 'users.role':
    case 'roles.parent':
      return roleRef();
    case 'users.policies':
    case 'roles.policies':
      return policyList();
    case 'roles.name':
    case 'policies.name':
      checkName(value, key);
      return;
    case 'roles.description':
    case 'policies.description':
      checkDescription(value, key);
      return;
    case 'policies.adminAccess':
      requireAdmin(checkBoolean(value, key));
      return;
    case 'policies.enforceTwoFactor':
      checkBoolean(value, key);
      return;
    case 'policies.ipAllowList':
      checkIpAllowList(value, key);
      return;
    case 'permissions.policy':
      return policyRef();
    case 'permissions.resource':
      if (!(RESOURCES as readonly unknown[]).includes(value)) throw badInput(key, `must be one of ${RESOURCES.join(', ')}`);
      return;
    case 'permissions.action':
      if (!(ACTIONS as readonly unknown[]).includes(value)) throw badInput(key, `must be one of ${ACTIONS.join(', ')}`);
      return;
    case 'permissions.fields':
      if (!Array.isArray(value) || value.length > MAX_IDS || value.some((f) => typeof f !== 'string' || f.length > MAX_FIELD_NAME))
        throw badInput(key, `must be a list of at most ${MAX_IDS} field names`);
      return;
    case 'permissions.presets':
    case 'permissions.filter':
      // Checked in full against the permission they end up on, when it is written.
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw badInput(key, 'must be a JSON object or null');
      return;
    default:
      throw forbiddenField(key, 'preset');
  }
}
