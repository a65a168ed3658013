// npm run keys:rotate [-- --now | --compromised]: adds a new access-token signing key (of JWT_ALGORITHM) to DATABASE_URL or, when
// it is unset, to the embedded PostgreSQL in ${DATA_DIR:-./data}/postgres: the same database and SECRET the
// server uses (same config, same .env). Running servers publish it in their JWKS within SIGNING_KEY_RELOAD_INTERVAL
// (at once when REDIS_URL is set) and sign with it from SIGNING_KEY_ACTIVATION_DELAY on, so verifiers that cache
// the JWKS learn it first; `--now` signs with it at once. The old keys stay published until every token they signed
// has expired, then are dropped. `--compromised` (a signing key may have leaked): signs with the new key at once and
// drops every other key, so every access token signed before, forged or not, is refused (clients refresh). With the
// embedded database it connects to the running server, or starts it for the command when none runs.
import 'dotenv/config';
import { loadConfig } from '../src/config/config.ts';
import { loadOrCreateSecret } from '../src/config/secret.ts';
import { deriveKey } from '../src/crypto/keys.ts';
import { createDatabase } from '../src/db/client.ts';
import { type EmbeddedPostgres, openEmbeddedPostgres } from '../src/db/embedded.ts';
import { createLogger } from '../src/log/logger.ts';
import { AuditLog } from '../src/modules/audit/audit-log.ts';
import { SigningKeyService } from '../src/modules/signing-keys/signing-key.service.ts';
import { createRedisPubSub } from '../src/pubsub/pubsub.ts';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== '--now' && a !== '--compromised')) throw new Error('Usage: npm run keys:rotate [-- --now | --compromised]');
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  let embedded: EmbeddedPostgres | null = null;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    embedded = await openEmbeddedPostgres({ dataDir: config.dataDir, systemUser: config.embeddedPostgresUser });
    connectionString = embedded.connectionString;
  }
  const db = createDatabase(connectionString, 1);
  let auditLog: AuditLog | null = null;
  const pubsub = config.redis ? await createRedisPubSub(config.redis.url, config.redis.prefix, logger) : null;
  try {
    const secret = await loadOrCreateSecret(config, logger);
    // The rotation is recorded in the audit log (signing_key.rotated), as the server's own are.
    auditLog = new AuditLog(db, deriveKey(secret, 'audit-email-hmac-sha256'), logger);
    const keys = new SigningKeyService(db, secret, config, logger, pubsub, auditLog);
    const created = await keys.rotate({ immediate: args.includes('--now'), distrustOthers: args.includes('--compromised') });
    console.log(
      `New signing key ${created.kid} (${created.algorithm}, generation ${created.generation}), signing from ${created.activatesAt.toISOString()}.`,
    );
    console.log(
      `Published keys: ${keys
        .jwks()
        .keys.map((k) => k.kid)
        .join(', ')}`,
    );
  } finally {
    await auditLog?.close();
    await pubsub?.close();
    await db.$disconnect();
    await embedded?.stop(); // only stops a server started for this command
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
