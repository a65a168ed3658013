import { isUuid } from '../../crypto/tokens.ts';
import { badInput, forbiddenField } from '../../errors.ts';
import { type FilterVariables, RESOURCE_FIELDS, type Resource, type Row } from './access.types.ts';

/**
 * Row filters of permissions, a small subset of Directus' filter rules:
 *
 *   Filter    := { "_and": [Filter, ...] } | { "_or": [Filter, ...] } | { column: Condition, ... }
 *   Condition := { "_eq": V } | { "_neq": V } | { "_in": [V, ...] } | { "_nin": [V, ...] } | { "_null": true|false }
 *   V         := a string, number or boolean, or "$CURRENT_USER" (the viewer's id)
 *
 * Several keys in one object must all hold. Comparisons follow SQL: a NULL column matches only
 * `_null: true`. One filter has two uses: checking a loaded row in memory (field reads, updates)
 * and narrowing a list query in the database; both read it the same way.
 */
export type Filter = Readonly<Record<string, unknown>>;

export const CURRENT_USER = '$CURRENT_USER';
const OPERATORS = ['_eq', '_neq', '_in', '_nin', '_null'] as const;
const MAX_DEPTH = 5;
const MAX_NODES = 50;
const MAX_LIST = 100;
const UUID_COLUMNS = new Set(['id', 'roleId', 'userId', 'policyId', 'parentId', 'actorId']);
const ENUM_COLUMNS: Record<string, readonly string[]> = {
  status: ['ACTIVE', 'SUSPENDED', 'ARCHIVED', 'INVITED', 'UNVERIFIED'],
  action: ['create', 'read', 'update', 'delete'],
};

/**
 * Checks a filter an admin saves: structure (BAD_USER_INPUT on `filter`), and that each column
 * may be filtered on for the resource (FORBIDDEN naming the column otherwise, e.g. passwordHash).
 */
export function validateFilter(resource: Resource, filter: unknown): Filter {
  let nodes = 0;
  const columns = RESOURCE_FIELDS[resource].filter;
  const visit = (node: unknown, depth: number): void => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH)
      throw badInput('filter', `is too large (at most ${MAX_NODES} conditions, nesting ${MAX_DEPTH})`);
    if (!isPlainObject(node) || Object.keys(node).length === 0) throw badInput('filter', 'each filter must be a non-empty object');
    for (const [key, value] of Object.entries(node)) {
      if (key === '_and' || key === '_or') {
        if (!Array.isArray(value) || value.length === 0) throw badInput('filter', `${key} takes a non-empty list of filters`);
        for (const child of value) visit(child, depth + 1);
        continue;
      }
      if (!columns.includes(key)) throw forbiddenField(key, 'filter on');
      validateCondition(key, value);
    }
  };
  visit(filter, 1);
  return filter as Filter;
}

function validateCondition(column: string, condition: unknown): void {
  if (!isPlainObject(condition) || Object.keys(condition).length !== 1) throw badInput('filter', `${column} takes one operator`);
  const [operator, operand] = Object.entries(condition)[0] as [string, unknown];
  if (!(OPERATORS as readonly string[]).includes(operator)) throw badInput('filter', `unknown operator ${operator.slice(0, 20)}`);
  if (operator === '_null') {
    if (typeof operand !== 'boolean') throw badInput('filter', '_null takes true or false');
    return;
  }
  const values = operator === '_in' || operator === '_nin' ? operand : [operand];
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_LIST)
    throw badInput('filter', `${operator} takes a list of 1 to ${MAX_LIST} values`);
  for (const value of values) validateValue(column, value);
}

function validateValue(column: string, value: unknown): void {
  if (value === CURRENT_USER) {
    if (!UUID_COLUMNS.has(column)) throw badInput('filter', `${CURRENT_USER} compares only with id columns`);
    return;
  }
  if (UUID_COLUMNS.has(column)) {
    if (!isUuid(value)) throw badInput('filter', `${column} compares with ids`);
    return;
  }
  const allowed = ENUM_COLUMNS[column];
  if (allowed) {
    if (typeof value !== 'string' || !allowed.includes(value)) throw badInput('filter', `${column} is one of ${allowed.join(', ')}`);
    return;
  }
  if (column === 'isPublic') {
    if (typeof value !== 'boolean') throw badInput('filter', 'isPublic compares with true or false');
    return;
  }
  if (typeof value !== 'string' || value.length > 320) throw badInput('filter', `${column} compares with strings`);
}

/** Whether the filter names $CURRENT_USER: for anonymous requests such a permission covers no row. */
export function referencesCurrentUser(filter: unknown): boolean {
  return JSON.stringify(filter ?? null).includes(`"${CURRENT_USER}"`);
}

/** Whether a loaded row passes a validated filter. */
export function rowMatches(filter: Filter, row: Row, vars: FilterVariables): boolean {
  return Object.entries(filter).every(([key, value]) => {
    if (key === '_and') return (value as Filter[]).every((child) => rowMatches(child, row, vars));
    if (key === '_or') return (value as Filter[]).some((child) => rowMatches(child, row, vars));
    const [operator, operand] = Object.entries(value as Filter)[0] as [string, unknown];
    const actual = (row as Record<string, unknown>)[key] ?? null;
    if (operator === '_null') return (actual === null) === operand;
    if (actual === null) return false;
    const resolve = (v: unknown) => (v === CURRENT_USER ? vars.userId : v);
    switch (operator) {
      case '_eq':
        return actual === resolve(operand);
      case '_neq':
        return actual !== resolve(operand);
      case '_in':
        return (operand as unknown[]).some((v) => actual === resolve(v));
      default:
        return !(operand as unknown[]).some((v) => actual === resolve(v));
    }
  });
}

/** A validated filter as a Prisma `where` (the column names are the Prisma field names). */
export function filterToWhere(filter: Filter, vars: FilterVariables): Record<string, unknown> {
  const resolve = (v: unknown) => (v === CURRENT_USER ? vars.userId : v);
  const parts = Object.entries(filter).map(([key, value]): Record<string, unknown> => {
    if (key === '_and') return { AND: (value as Filter[]).map((child) => filterToWhere(child, vars)) };
    if (key === '_or') return { OR: (value as Filter[]).map((child) => filterToWhere(child, vars)) };
    const [operator, operand] = Object.entries(value as Filter)[0] as [string, unknown];
    switch (operator) {
      case '_null':
        return { [key]: operand ? null : { not: null } };
      case '_eq':
        return { [key]: { equals: resolve(operand) } };
      case '_neq':
        return { [key]: { not: resolve(operand) } };
      case '_in':
        return { [key]: { in: (operand as unknown[]).map(resolve) } };
      default:
        return { [key]: { notIn: (operand as unknown[]).map(resolve) } };
    }
  });
  return parts.length === 1 ? (parts[0] as Record<string, unknown>) : { AND: parts };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
