import { AppError, forbiddenField } from '../../errors.ts';
import type { Access, Action, FilterVariables, Grant, PermissionRule, Resource, Row } from './access.types.ts';
import { type Filter, filterToWhere, rowMatches } from './permission-filter.ts';

/**
 * Decisions over a viewer's permissions for one request. A row is covered by an action when some
 * permission for it has no filter or a filter the row passes; a field of a row is readable when
 * a read permission covering that row names the field (or `*`). Permissions are never merged
 * across rows: a policy that reads emails of the viewer's own record and another that reads names
 * of everyone do not add up to reading everyone's email.
 */

function applicable(grant: Grant, vars: FilterVariables): boolean {
  return !(vars.userId === null && grant.needsViewer);
}

function covers(grant: Grant, row: Row, vars: FilterVariables): boolean {
  return applicable(grant, vars) && (grant.filter === null || rowMatches(grant.filter as Filter, row, vars));
}

/** Whether the action is granted on this row. */
export function rowAllowed(access: Access, resource: Resource, action: Action, row: Row, vars: FilterVariables): boolean {
  return access.grants(resource, action).some((grant) => covers(grant, row, vars));
}

/** Whether the viewer may read this field of this row. */
export function fieldReadable(access: Access, resource: Resource, field: string, row: Row, vars: FilterVariables): boolean {
  return access.grants(resource, 'read').some((grant) => (grant.fields === '*' || grant.fields.has(field)) && covers(grant, row, vars));
}

/**
 * A Prisma `where` selecting the rows the action covers: `{}` for all rows, null when it covers
 * none (no permission at all, or only filters on $CURRENT_USER for an anonymous request). With
 * `fields`, only permissions that include all of them count: searching by a column is reading it.
 */
export function rowsWhere(
  access: Access,
  resource: Resource,
  action: Action,
  vars: FilterVariables,
  fields: readonly string[] = [],
): Record<string, unknown> | null {
  const grants = access
    .grants(resource, action)
    .filter((grant) => applicable(grant, vars) && fields.every((f) => grant.fields === '*' || grant.fields.has(f)));
  if (grants.length === 0) return null;
  if (grants.some((grant) => grant.filter === null)) return {};
  return { OR: grants.map((grant) => filterToWhere(grant.filter as Filter, vars)) };
}

/**
 * The fields and presets the action allows on this row (update and delete), merged over the
 * permissions covering it; null when none covers it.
 */
export function ruleForRow(access: Access, resource: Resource, action: Action, row: Row, vars: FilterVariables): PermissionRule | null {
  const grants = access.grants(resource, action).filter((grant) => covers(grant, row, vars));
  return grants.length === 0 ? null : mergeGrants(grants);
}

export function mergeGrants(grants: readonly Grant[]): PermissionRule {
  let fields: Set<string> | '*' = new Set();
  let presets: Record<string, unknown> = {};
  for (const grant of grants) {
    fields = fields === '*' || grant.fields === '*' ? '*' : new Set([...fields, ...grant.fields]);
    presets = { ...presets, ...grant.presets };
  }
  return { fields, presets };
}

/**
 * Every field the caller set must be allowed (FORBIDDEN names the first that is not, in `order`
 * so errors are stable); then presets are laid over the input: a preset always wins.
 */
export function applyWriteRule<T extends object>(rule: PermissionRule | null, input: T, order: readonly (keyof T & string)[]): T {
  if (!rule) throw new AppError('FORBIDDEN');
  for (const field of order) {
    if ((input as Record<string, unknown>)[field] !== undefined && rule.fields !== '*' && !rule.fields.has(field))
      throw forbiddenField(field);
  }
  return { ...input, ...rule.presets } as T;
}
