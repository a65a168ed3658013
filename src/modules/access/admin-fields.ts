import type { Context } from '../../http/context.ts';
import { rowsWhere } from './access.check.ts';
import type { FilterVariables, Resource, Row } from './access.types.ts';
import type { AccessActor } from './access-admin.validation.ts';

/** Field-level read permission: the field shows when a read permission covering this row names it. */
export const readable = (resource: Resource, field: string) => ({
  authScopes: (row: Row) => ({ readField: { resource, field, row } }),
});

export const actorOf = (ctx: Context): AccessActor => ({
  access: ctx.access,
  userId: ctx.viewer?.userId ?? null,
  sessionId: ctx.viewer?.sessionId ?? null,
});

export const viewerVars = (ctx: Context): FilterVariables => ({ userId: ctx.viewer?.userId ?? null });

const NO_ROWS = { id: { in: [] as string[] } };

/**
 * A `where` for the rows of a nested list the viewer may read, like the top-level lists: related
 * rows outside their read permissions are left out rather than shown with every field refused.
 */
export function readableRows(ctx: Context, resource: Resource): Record<string, unknown> {
  return rowsWhere(ctx.access, resource, 'read', viewerVars(ctx)) ?? NO_ROWS;
}

/** GraphQL IDs arrive as strings or numbers; the services take strings (null and undefined kept). */
export function idString<T extends string | number | null | undefined>(id: T): string | Exclude<T, string | number> {
  return (id === null || id === undefined ? id : String(id)) as string | Exclude<T, string | number>;
}

export function idStrings<T extends readonly (string | number)[] | null | undefined>(ids: T): string[] | Exclude<T, readonly unknown[]> {
  return (ids === null || ids === undefined ? ids : ids.map(String)) as string[] | Exclude<T, readonly unknown[]>;
}
