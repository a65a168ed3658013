// npm run users:list [-- --email <part>] [--status ACTIVE|SUSPENDED|...] [--limit 50]: lists accounts (id, email,
// status, 2FA, created), oldest first, straight from the database: for an operator who cannot reach the API.
import { UserStatus } from '../src/generated/prisma/enums.ts';
import { openCliContext, parseOptions, runCli, UsageError } from './cli-context.ts';

const USAGE = 'Usage: npm run users:list [-- --email <part>] [--status <STATUS>] [--limit <1-1000>]';

runCli(USAGE, async (args) => {
  const options = parseOptions(args, ['email', 'status', 'limit']);
  const status = options.status as string | undefined;
  if (status !== undefined && !(status in UserStatus))
    throw new UsageError(`--status must be one of ${Object.keys(UserStatus).join(', ')}.`);
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be between 1 and 1000.');
  const cli = await openCliContext();
  try {
    const users = await cli.db.user.findMany({
      where: {
        ...(typeof options.email === 'string' ? { email: { contains: options.email.trim().toLowerCase() } } : {}),
        ...(status ? { status: status as UserStatus } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: { id: true, email: true, status: true, createdAt: true, twoFactor: { select: { enabledAt: true } } },
    });
    const rows = users.map((u) => [u.id, u.email, u.status, u.twoFactor?.enabledAt ? '2fa' : '-', u.createdAt.toISOString()]);
    const widths = [36, Math.max(5, ...rows.map((r) => r[1]!.length)), 10, 3];
    const line = (cells: string[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ');
    console.log(line(['ID', 'EMAIL', 'STATUS', '2FA', 'CREATED']));
    for (const row of rows) console.log(line(row as string[]));
    console.log(`${rows.length} user(s)${rows.length === limit ? ` (first ${limit}; use --limit for more)` : ''}`);
  } finally {
    await cli.close();
  }
});
