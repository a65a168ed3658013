/**
 * What of a failed send may be kept in clear (the outbox's lastError, the logs): nodemailer's
 * error code and the SMTP reply code, plus its message with every address, link and bracketed
 * value blanked out, since an SMTP reply often quotes the recipient ("550 <ann@example.com>:
 * mailbox unavailable") and a rejected message may be quoted with its reset link.
 */
export function describeSendError(error: unknown): string {
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const parts: string[] = [];
  if (typeof e.code === 'string' && /^[A-Z_]{1,32}$/.test(e.code)) parts.push(e.code);
  if (typeof e.responseCode === 'number') parts.push(String(e.responseCode));
  const message = typeof e.message === 'string' ? redact(e.message) : '';
  const text = [parts.join(' '), message].filter(Boolean).join(': ');
  return (text || 'send failed').slice(0, 300);
}

function redact(message: string): string {
  return message
    .replace(/<[^>]*>/g, '<…>')
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<link>')
    .replace(/\S+@\S+/g, '<address>')
    .replace(/[A-Za-z0-9_-]{32,}/g, '<…>')
    .replace(/\s+/g, ' ')
    .trim();
}
