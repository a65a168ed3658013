import { BackgroundTasks } from './background.ts';
import type { Config } from './config/config.ts';
import { createAccessTokenSigner } from './crypto/jwt.ts';
import { deriveKey } from './crypto/keys.ts';
import { createDummyHash } from './crypto/password.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './log/logger.ts';
import type { MailTransport } from './mail/mail.transport.ts';
import { AccessService } from './modules/access/access.service.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { PasswordResetService } from './modules/password-reset/password-reset.service.ts';
import { SessionService } from './modules/sessions/session.service.ts';
import { UsersService } from './modules/users/users.service.ts';

export interface Dependencies {
  config: Config;
  /** The SECRET, from configuration or the data directory. */
  secret: string;
  db: Database;
  mail: MailTransport;
  logger: Logger;
}

export type Services = Awaited<ReturnType<typeof createServices>>;

/** Wires the feature services once per process; resolvers reach them through the context. */
export async function createServices({ config, secret, db, mail, logger }: Dependencies) {
  const background = new BackgroundTasks(logger);
  const access = new AccessService(db);
  const signer = createAccessTokenSigner(deriveKey(secret, 'access-token-hs256'), config.tokens);
  const sessions = new SessionService(db, access, signer, config);
  const dummyHash = await createDummyHash(config.passwords.argon2);
  return {
    db,
    background,
    access,
    signer,
    sessions,
    users: new UsersService(db, access, config),
    auth: new AuthService(db, sessions, config, dummyHash),
    passwordReset: new PasswordResetService(db, sessions, mail, background, config, logger),
  };
}
