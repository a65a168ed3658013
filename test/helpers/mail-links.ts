import type { ParsedMail } from 'mailparser';
import type { SmtpCatcher } from './smtp-catcher.ts';

/** The first link in a mail's text part. */
export function linkIn(mail: ParsedMail): URL {
  const href = /https?:\/\/\S+/.exec(mail.text ?? '')?.[0];
  if (!href) throw new Error(`no link in the mail "${mail.subject}"`);
  return new URL(href);
}

/** The mails received so far for `to` (lower case), oldest first. */
export function mailsTo(smtp: SmtpCatcher, to: string): ParsedMail[] {
  const wanted = to.toLowerCase();
  return smtp.messages.filter((m) => {
    const list = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
    return list.some((t) => t.value.some((v) => (v.address ?? '').toLowerCase() === wanted));
  });
}

/** Waits until `count` mails to `to` have arrived, and returns the newest. */
export async function waitForNthMail(smtp: SmtpCatcher, to: string, count: number, timeoutMs = 10_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = mailsTo(smtp, to);
    if (mails.length >= count) return mails[mails.length - 1] as ParsedMail;
    if (Date.now() > deadline) throw new Error(`expected ${count} mails to ${to}, got ${mails.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Gives mails that might still be on their way time to arrive (to assert that none did). */
export function settle(ms = 500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
