// npm run users:suspend -- --email <email>: suspends an account and ends all of its sessions, straight in the
// database, for an operator locked out of the API (a compromised administrator, say). Running servers refuse the
// account's access tokens within REVOCATION_POLL_INTERVAL. Recorded in the audit log (user.status_changed, via cli).
// Undo with updateUser(status: ACTIVE) through the API.
import { normalizeEmail } from '../src/modules/users/users.validation.ts';
import { openCliContext, parseOptions, runCli, UsageError } from './cli-context.ts';

const USAGE = 'Usage: npm run users:suspend -- --email <email>';

runCli(USAGE, async (args) => {
  const options = parseOptions(args, ['email']);
  if (typeof options.email !== 'string') throw new UsageError('--email is required.');
  const email = normalizeEmail(options.email);
  const cli = await openCliContext();
  try {
    const user = await cli.db.user.findUnique({ where: { email }, select: { id: true, status: true } });
    if (!user) throw new Error(`No account with the email ${email}.`);
    // Status first: from then on no login can add a session (it re-reads the status as it writes one).
    await cli.db.user.update({ where: { id: user.id }, data: { status: 'SUSPENDED' } });
    const ended = await cli.db.session.updateMany({
      where: { userId: user.id, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: 'status-suspended' },
    });
    const result = { ...user, ended: ended.count };
    cli.auditLog.record({
      type: 'user.status_changed',
      userId: result.id,
      details: { status: 'SUSPENDED', via: 'cli', was: result.status },
    });
    console.log(`Suspended ${email} (id ${result.id}, was ${result.status}); ${result.ended} session(s) ended.`);
  } finally {
    await cli.close();
  }
});
