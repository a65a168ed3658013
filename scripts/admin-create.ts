// npm run admin:create -- --email <email> [--password-stdin]: adds an ACTIVE administrator to DATABASE_URL or, when
// it is unset, to the embedded PostgreSQL in ${DATA_DIR:-./data}/postgres: the same database the server uses
// (same config, same .env). Without --password-stdin a random password is generated and printed once. A password is
// never taken as an argument: it would be kept in the shell history and be visible to other users in `ps`. With the
// embedded database it connects to the running server, or starts it for the command when none runs.
import 'dotenv/config';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.ts';
import { generatePassword } from '../src/crypto/password.ts';
import { createDatabase } from '../src/db/client.ts';
import type { EmbeddedPostgres } from '../src/db/embedded.ts';
import { createPasswordHasher } from '../src/modules/passwords/password-hasher.ts';
import { createAdministrator } from '../src/modules/users/admin-create.ts';

const USAGE = 'Usage: npm run admin:create -- --email <email> [--password-stdin]';

class UsageError extends Error {
  constructor(problem: string) {
    super(`${problem}\n${USAGE}`);
  }
}

interface Args {
  email: string;
  passwordStdin: boolean;
}

function parseArgs(args: string[]): Args | 'help' {
  let email: string | undefined;
  let passwordStdin = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--password' || arg.startsWith('--password=')) {
      throw new UsageError(
        '--password is not accepted: a password on the command line stays in the shell history and shows in `ps`.\n' +
          'Pipe it in with --password-stdin, or leave it out to get a generated one.',
      );
    }
    if (arg === '--password-stdin') passwordStdin = true;
    else if (arg.startsWith('--email=')) email = arg.slice('--email='.length);
    else if (arg === '--email') {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError('--email needs a value.');
      email = value;
    } else throw new UsageError(`Unknown argument: ${arg}`);
  }
  if (!email) throw new UsageError('--email is required.');
  return { email, passwordStdin };
}

/** The first line of standard input, without its line ending; stops reading there. */
async function readPasswordFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new Error('--password-stdin: standard input is empty.');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  const config = loadConfig(process.env);
  const password = args.passwordStdin ? await readPasswordFromStdin() : generatePassword(config.passwords.minLength);

  let embedded: EmbeddedPostgres | null = null;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    // Loaded only here: PostgreSQL deployments need not pay for it. It refuses a DATA_DIR without a database
    // (a wrong working directory, say) rather than creating an empty one there.
    const { openEmbeddedPostgres } = await import('../src/db/embedded.ts');
    embedded = await openEmbeddedPostgres({ dataDir: config.dataDir, systemUser: config.embeddedPostgresUser });
    connectionString = embedded.connectionString;
  }
  const db = createDatabase(connectionString, 1);
  try {
    const admin = await createAdministrator(db, config, createPasswordHasher(config), {
      email: args.email,
      password,
    });
    console.log(`Administrator created: ${admin.email} (policy "${admin.policy}", id ${admin.id})`);
    if (!args.passwordStdin) {
      // Shown once, on purpose: the operator has no other way to learn it.
      console.log(`Password (shown once): ${password}`);
      console.log('Sign in and change it (changePassword) before using the account.');
    }
  } finally {
    await db.$disconnect();
    await embedded?.stop(); // only stops a server started for this command
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
