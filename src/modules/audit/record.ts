import type { Context } from '../../http/context.ts';
import type { AuthEventInput } from './auth-event-types.ts';

/**
 * Records an event of the request in `ctx`: its client address and user agent, and the viewer as
 * the actor when they act on someone else's account (an administrator). Never waits, never throws.
 */
export function recordEvent(ctx: Context, event: Omit<AuthEventInput, 'ip' | 'userAgent'>): void {
  const viewerId = ctx.viewer?.userId ?? null;
  ctx.services.auditLog.record({
    ...event,
    actorId: event.actorId !== undefined ? event.actorId : viewerId && viewerId !== event.userId ? viewerId : null,
    ip: ctx.client.ip,
    userAgent: ctx.client.userAgent,
  });
}

/**
 * Runs an access-control change (create/update/delete of a role, policy or permission) and records
 * it once it succeeded, with the id of what changed and the viewer as the actor.
 */
export async function recordChange<T>(
  ctx: Context,
  type: 'role.changed' | 'policy.changed' | 'permission.changed',
  action: 'create' | 'update' | 'delete',
  id: string | null,
  change: () => Promise<T>,
): Promise<T> {
  const result = await change();
  const changedId = id ?? (result as { id?: string } | null)?.id ?? null;
  recordEvent(ctx, { type, actorId: ctx.viewer?.userId ?? null, details: { action, id: changedId } });
  return result;
}
