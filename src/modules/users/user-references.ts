import DataLoader from 'dataloader';
import type { Context } from '../../http/context.ts';
import { actorOf } from '../access/admin-fields.ts';
import type { UsersService } from './users.service.ts';

type VisibleUser = Awaited<ReturnType<UsersService['findVisibleByIds']>>[number];

// One loader per request: a gateway sends every reference of a response in one `_entities` call,
// and they become one query (repeated ids, such as one author of many posts, are read once).
const loaders = new WeakMap<Context, DataLoader<string, VisibleUser | null>>();

/** A user the viewer may read, by id; null outside their users:read row filter (as `user(id:)`). */
export function loadVisibleUser(ctx: Context, id: string): Promise<VisibleUser | null> {
  let loader = loaders.get(ctx);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const rows = await ctx.services.users.findVisibleByIds(actorOf(ctx), ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    loaders.set(ctx, loader);
  }
  return loader.load(id);
}
