// npm run audit:tail [-- --limit 20] [--email <email>] [--type <type>] [--follow]: prints the newest audit events
// (oldest of them first), one JSON object per line; --follow keeps printing new ones every 2 seconds until Ctrl-C.
// With the embedded database it uses the running server's PostgreSQL, or starts it while it runs (scripts/cli-context.ts).

import { AUTH_EVENT_TYPES } from '../src/modules/audit/auth-event-types.ts';
import { normalizeEmail } from '../src/modules/users/users.validation.ts';
import { openCliContext, parseOptions, runCli, UsageError } from './cli-context.ts';

const USAGE = 'Usage: npm run audit:tail [-- --limit <1-1000>] [--email <email>] [--type <event type>] [--follow]';
const POLL_MS = 2000;
const LOOK_BACK_MS = 10_000;

runCli(USAGE, async (args) => {
  const options = parseOptions(args, ['limit', 'email', 'type'], ['follow']);
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be between 1 and 1000.');
  const type = options.type as string | undefined;
  if (type !== undefined && !(AUTH_EVENT_TYPES as readonly string[]).includes(type))
    throw new UsageError(`--type must be one of ${AUTH_EVENT_TYPES.join(', ')}.`);
  const cli = await openCliContext();
  let stopped = false;
  process.once('SIGINT', () => {
    stopped = true;
  });
  try {
    const where: Record<string, unknown> = type ? { type } : {};
    if (typeof options.email === 'string') {
      // An account's events by its id; attempts on an address without an account by the address's keyed hash.
      const email = normalizeEmail(options.email);
      const user = await cli.db.user.findUnique({ where: { email }, select: { id: true } });
      where.OR = [...(user ? [{ userId: user.id }] : []), { subjectHash: cli.auditLog.hashEmail(email) }];
    }
    // seq (the write order, a bigint JSON cannot print) orders events of one millisecond; it is not printed.
    const newest = await cli.db.authEvent.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { seq: 'desc' }],
      omit: { seq: true },
      take: limit,
    });
    // Events are stamped when they happen and written up to a second later (by any instance), so each
    // poll looks back a little and skips what it printed already.
    const printed = new Set<string>();
    let latest = newest[0]?.createdAt.getTime() ?? Date.now();
    const print = (event: (typeof newest)[number]) => {
      if (printed.has(event.id)) return;
      printed.add(event.id);
      if (printed.size > 10_000) printed.delete(printed.values().next().value as string);
      latest = Math.max(latest, event.createdAt.getTime());
      console.log(JSON.stringify(event));
    };
    for (const event of newest.reverse()) print(event);
    while (options.follow && !stopped) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const fresh = await cli.db.authEvent.findMany({
        where: { AND: [where, { createdAt: { gte: new Date(latest - LOOK_BACK_MS) } }] },
        orderBy: [{ createdAt: 'asc' }, { seq: 'asc' }],
        omit: { seq: true },
        take: 1000,
      });
      for (const event of fresh) print(event);
    }
  } finally {
    await cli.close();
  }
});
