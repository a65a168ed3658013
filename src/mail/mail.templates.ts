import type { MailMessage } from './mail.transport.ts';

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function passwordResetMail(to: string, link: string, validMinutes: number): MailMessage {
  const text = [
    'Someone asked to reset the password of your account.',
    '',
    `To choose a new password, open this link within ${validMinutes} minutes:`,
    link,
    '',
    'If it was not you, ignore this email: your password stays as it is.',
  ].join('\n');
  const html = `<p>Someone asked to reset the password of your account.</p>
<p>To choose a new password, open this link within ${validMinutes} minutes:</p>
<p><a href="${escapeHtml(link)}">Reset your password</a></p>
<p>If it was not you, ignore this email: your password stays as it is.</p>`;
  return { to, subject: 'Reset your password', text, html };
}
