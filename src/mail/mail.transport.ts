import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from '../log/logger.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A message as the outbox hands it over: with its stable Message-ID (the same on every attempt). */
export type OutgoingMail = MailMessage & { messageId?: string };

export interface MailTransport {
  send(message: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * A nodemailer transport made when the first message is sent (nodemailer itself is loaded then: see
 * src/mail/nodemailer.ts; a failed load is tried again with the next message); `close` closes it if it was made.
 */
function lazyTransporter(options: Parameters<typeof import('nodemailer').createTransport>[0]) {
  let transporter: Promise<Transporter> | undefined;
  return {
    get: () =>
      (transporter ??= import('./nodemailer.ts').then(
        ({ createTransport }) => createTransport(options),
        (error: unknown) => {
          transporter = undefined;
          throw error;
        },
      )),
    close() {
      void transporter?.then(
        (t) => t.close(),
        () => {},
      );
    },
  };
}

export type SmtpSettings = { url: string } | { host: string; port: number; secure: boolean; user?: string; password?: string };

/**
 * `timeoutMs` bounds each step of a send: connecting (DNS included), the server's greeting, and
 * any silence afterwards. nodemailer's defaults (2 min, 30 s, 10 min) would let an SMTP server
 * that accepts and never answers hold a send, and shutdown behind it, for minutes.
 */
export function createSmtpTransport(from: string, smtp: SmtpSettings, timeoutMs = 10_000): MailTransport {
  const timeouts = { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, dnsTimeout: timeoutMs };
  const transporter = lazyTransporter(
    'url' in smtp
      ? { url: smtp.url, ...timeouts }
      : {
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
          ...timeouts,
        },
  );
  return {
    async send(message) {
      await (await transporter.get()).sendMail({ from, ...message });
    },
    close: () => transporter.close(),
  };
}

/**
 * The embedded default: each message becomes an `.eml` file (readable only by the owner, since
 * it may hold a reset link) in the outbox folder; the log names the file, not its contents.
 */
export function createFileOutboxTransport(from: string, outboxDir: string, logger: Logger): MailTransport {
  const builder = lazyTransporter({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(message) {
      const info = await (await builder.get()).sendMail({ from, ...message });
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      const file = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomUUID()}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      logger.info(
        { file, subject: message.subject, messageId: message.messageId },
        'mail written to the outbox (set EMAIL_SMTP_URL to send it)',
      );
    },
    close: () => builder.close(),
  };
}
