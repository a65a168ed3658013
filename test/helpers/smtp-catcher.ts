import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server in-process that keeps every message it receives, parsed. */
export interface SmtpCatcher {
  url: string;
  messages: ParsedMail[];
  /** The first message to `to` (received now or within the timeout). */
  waitForMail(to: string, timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export interface SmtpCatcherOptions {
  /** A fixed port (to stop the server and start it again where the app sends); default: a free one. */
  port?: number;
  /** Refuse every recipient with a permanent 550 that quotes the address, as a real server would. */
  rejectRecipients?: boolean;
  /** Messages received so far (a restarted catcher keeps counting on the same list). */
  messages?: ParsedMail[];
  /**
   * Called with each message before the server answers its DATA: the answer waits for the promise,
   * and an error it resolves to (with a `responseCode`) refuses the message, which is then not kept.
   */
  beforeAccept?: (mail: ParsedMail) => Promise<Error | undefined>;
}

export async function startSmtpCatcher(options: SmtpCatcherOptions = {}): Promise<SmtpCatcher> {
  const messages: ParsedMail[] = options.messages ?? [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!options.rejectRecipients) return callback();
      callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected: mailbox unavailable`), { responseCode: 550 }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          const refusal = await options.beforeAccept?.(mail);
          if (refusal) return callback(refusal);
          messages.push(mail);
          for (const wake of waiters) wake();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.server.address() as AddressInfo;

  const find = (to: string) => messages.find((m) => addressesOf(m).includes(to.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMail(to, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = find(to);
          if (!mail) return;
          cleanup();
          resolve(mail);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function addressesOf(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((t) => t.value.map((v) => (v.address ?? '').toLowerCase()));
}
