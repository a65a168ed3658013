import { BackgroundTasks } from './background.ts';
import type { Config } from './config/config.ts';
import { deriveKey } from './crypto/keys.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './log/logger.ts';
import type { MailTransport } from './mail/mail.transport.ts';
import { MailOutbox } from './mail/outbox.service.ts';
import { Metrics } from './metrics/metrics.ts';
import { AccessService } from './modules/access/access.service.ts';
import { AccessChanges } from './modules/access/access-changes.ts';
import { PermissionsService } from './modules/access/permissions.service.ts';
import { PoliciesService } from './modules/access/policies.service.ts';
import { RolesService } from './modules/access/roles.service.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { AuditLog } from './modules/audit/audit-log.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { EmailChangeService } from './modules/email-change/email-change.service.ts';
import { HealthService } from './modules/health/health.service.ts';
import { InvitationService } from './modules/invitations/invitation.service.ts';
import { PasswordChangeService } from './modules/password-change/password-change.service.ts';
import { PasswordResetService } from './modules/password-reset/password-reset.service.ts';
import { createPasswordHasher } from './modules/passwords/password-hasher.ts';
import { KnownIps } from './modules/rate-limits/known-ips.ts';
import { createMemoryLimiterStore, createRedisLimiterStore } from './modules/rate-limits/limiter-store.ts';
import { LockoutService } from './modules/rate-limits/lockout.service.ts';
import { RateLimitService } from './modules/rate-limits/rate-limit.service.ts';
import { createSubjectHasher } from './modules/rate-limits/subject-key.ts';
import { RegistrationService } from './modules/registration/registration.service.ts';
import { RetentionService } from './modules/sessions/retention.service.ts';
import { RevocationService } from './modules/sessions/revocation.service.ts';
import { SessionService } from './modules/sessions/session.service.ts';
import { TokenFamily } from './modules/sessions/token-family.ts';
import { SigningKeyService } from './modules/signing-keys/signing-key.service.ts';
import { SsoService } from './modules/sso/sso.service.ts';
import { TwoFactorService } from './modules/two-factor/two-factor.service.ts';
import { UserRowCache } from './modules/users/user-rows.ts';
import { UsersService } from './modules/users/users.service.ts';
import { createRedisPubSub } from './pubsub/pubsub.ts';

export interface Dependencies {
  config: Config;
  /** The SECRET, from configuration or the data directory. */
  secret: string;
  db: Database;
  mail: MailTransport;
  logger: Logger;
}

export type Services = Awaited<ReturnType<typeof createServices>>;

/**
 * Wires the feature services once per process; resolvers reach them through the context.
 * close() stops their timers and connections; the caller closes the database afterwards.
 */
export async function createServices({ config, secret, db, mail, logger }: Dependencies) {
  const background = new BackgroundTasks(logger);
  // Every mail goes through the outbox; `mail` is only its sender's transport.
  const mailOutbox = new MailOutbox(db, mail, deriveKey(secret, 'mail-outbox-aes-256-gcm'), config, logger);
  const metrics = new Metrics();
  // Buffered audit events are written last, after every request and background task has ended.
  const auditLog = new AuditLog(db, deriveKey(secret, 'audit-email-hmac-sha256'), logger, (event) => metrics.recordAuthEvent(event));
  auditLog.start();
  const pubsub = config.redis ? await createRedisPubSub(config.redis.url, config.redis.prefix, logger) : null;
  // Stopped in reverse: background tasks drain first (their mails are enqueued and woken), then
  // the sender stops, and the audit log is flushed last.
  const stops: (() => Promise<void> | void)[] = [
    () => auditLog.close(),
    () => metrics.stop(),
    () => pubsub?.close(),
    () => mailOutbox.stop(),
    () => background.drain(),
  ];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  // The dummy hash for unknown emails takes one argon2 hash on a libuv thread: it runs while the
  // start-up's queries below run on this one, instead of after them.
  const passwordHasher = createPasswordHasher(config, logger);
  const dummyHashing = passwordHasher.createDummyHash();
  dummyHashing.catch(() => {}); // awaited below; a start-up that fails before then must not leave it unhandled
  try {
    const userRows = new UserRowCache(db, config, logger, pubsub);
    await userRows.start();
    stops.push(() => userRows.stop());
    const access = new AccessService(db, { maxStalenessMs: config.accessSnapshot.maxStalenessSeconds * 1000 });
    const accessChanges = new AccessChanges(db, access, config, logger, pubsub, userRows);
    await accessChanges.start();
    stops.push(() => accessChanges.stop());
    const signingKeys = new SigningKeyService(db, secret, config, logger, pubsub, auditLog);
    await signingKeys.start();
    stops.push(() => signingKeys.stop());
    const revocations = new RevocationService(db, config, logger, pubsub);
    await revocations.start();
    stops.push(() => revocations.stop());
    const family = new TokenFamily(db, secret, config.tokens.refreshReuseGraceSeconds * 1000);
    family.startSweeping();
    stops.push(() => family.stop());
    const sessions = new SessionService(db, access, signingKeys, revocations, config, family, auditLog);
    const retention = new RetentionService(db, config, logger);
    retention.start();
    stops.push(() => retention.stop());
    const dummyHash = await dummyHashing;
    // Limits hold across instances when they share Redis; in process memory otherwise.
    const limiterStore = config.redis
      ? await createRedisLimiterStore(config.redis.url, config.redis.prefix, logger)
      : createMemoryLimiterStore();
    stops.push(() => limiterStore.close());
    const hashSubject = createSubjectHasher(secret);
    const knownIps = new KnownIps(limiterStore, config.rateLimits.lockout.knownIpTtlSeconds, hashSubject);
    const lockout = new LockoutService(limiterStore, knownIps, db, mailOutbox, background, config, logger, auditLog);
    const twoFactor = new TwoFactorService(
      db,
      passwordHasher,
      sessions,
      mailOutbox,
      deriveKey(secret, 'totp-secret-aes-256-gcm'),
      deriveKey(secret, 'recovery-code-hmac-sha256'),
      config,
      logger,
      userRows,
      auditLog,
    );
    await twoFactor.rehashPlainRecoveryCodes();
    const users = new UsersService(
      db,
      passwordHasher,
      access,
      accessChanges,
      sessions,
      config,
      deriveKey(secret, 'list-cursor-aes-256-gcm'),
      userRows,
    );
    // Sends what an earlier run (or another instance) left, then whatever is enqueued.
    mailOutbox.start();
    metrics.observeHashGate(passwordHasher);
    metrics.observeDatabase(db);
    metrics.observeBackgroundTasks(() => background.pending);
    const auth = new AuthService(db, passwordHasher, sessions, config, dummyHash, lockout, twoFactor, userRows, auditLog, background);
    return {
      db,
      background,
      mailOutbox,
      metrics,
      auditLog,
      audit: new AuditService(db, deriveKey(secret, 'audit-cursor-aes-256-gcm')),
      passwordHasher,
      access,
      accessChanges,
      roles: new RolesService(db, accessChanges),
      policies: new PoliciesService(db, accessChanges),
      permissions: new PermissionsService(db, accessChanges),
      signingKeys,
      revocations,
      sessions,
      retention,
      users,
      registration: new RegistrationService(db, passwordHasher, access, mailOutbox, background, config, logger, userRows),
      invitations: new InvitationService(db, passwordHasher, users, mailOutbox, config, logger, userRows),
      emailChange: new EmailChangeService(db, passwordHasher, sessions, mailOutbox, config, logger, userRows),
      auth,
      sso: new SsoService(db, auth, twoFactor, config, logger, deriveKey(secret, 'sso-state-aes-256-gcm'), mailOutbox, auditLog),
      twoFactor,
      health: new HealthService(db, limiterStore),
      rateLimits: new RateLimitService(limiterStore, config.rateLimits.operations, hashSubject, knownIps),
      passwordChange: new PasswordChangeService(db, passwordHasher, sessions, config, userRows),
      passwordReset: new PasswordResetService(
        db,
        passwordHasher,
        sessions,
        mailOutbox,
        background,
        config,
        logger,
        lockout,
        userRows,
        auditLog,
      ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
