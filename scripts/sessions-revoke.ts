// npm run sessions:revoke -- --email <email>: ends every session of an account (its refresh tokens and session
// cookies stop working at once, its access tokens within REVOCATION_POLL_INTERVAL on every running server),
// straight in the database. The account stays active: the owner signs in again. Recorded in the audit log.
import { normalizeEmail } from '../src/modules/users/users.validation.ts';
import { openCliContext, parseOptions, runCli, UsageError } from './cli-context.ts';

const USAGE = 'Usage: npm run sessions:revoke -- --email <email>';

runCli(USAGE, async (args) => {
  const options = parseOptions(args, ['email']);
  if (typeof options.email !== 'string') throw new UsageError('--email is required.');
  const email = normalizeEmail(options.email);
  const cli = await openCliContext();
  try {
    const user = await cli.db.user.findUnique({ where: { email }, select: { id: true } });
    if (!user) throw new Error(`No account with the email ${email}.`);
    const ended = await cli.db.session.updateMany({
      where: { userId: user.id, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: 'revoked-by-operator' },
    });
    cli.auditLog.record({ type: 'session.revoked', userId: user.id, details: { by: 'operator', via: 'cli', sessionsEnded: ended.count } });
    console.log(`Ended ${ended.count} session(s) of ${email} (id ${user.id}).`);
  } finally {
    await cli.close();
  }
});
