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

const forHowLong = (seconds: number) =>
  seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.round(seconds / 60)} minute${seconds < 90 ? '' : 's'}`;

/** Sent once per lockout, to the account's owner; it names no IP or device (the attacker's or not). */
export function loginLockedMail(to: string, lockedSeconds: number): MailMessage {
  const paragraphs = [
    `After several failed sign-in attempts, signing in to your account is paused for ${forHowLong(lockedSeconds)}.`,
    'If it was you, wait and try again, or reset your password. Signing in from a network you have signed in from recently still works.',
    'If it was not you, someone may be guessing your password: choose a strong, unique one by resetting it.',
  ];
  const html = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return { to, subject: 'Sign-in to your account was paused', text: paragraphs.join('\n\n'), html };
}

/** Sent when two-factor authentication is turned on or off, so an owner notices a change they did not make. */
export function twoFactorChangedMail(to: string, enabled: boolean): MailMessage {
  const paragraphs = enabled
    ? [
        'Two-factor authentication is now on for your account. Signing in needs a code from your authenticator app (or a recovery code).',
        'Your other sessions were signed out. If you did not do this, reset your password and contact your administrator.',
      ]
    : [
        'Two-factor authentication is now off for your account. Signing in needs only your password.',
        'Your other sessions were signed out. If you did not do this, reset your password at once and turn two-factor authentication back on.',
      ];
  const html = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return {
    to,
    subject: enabled ? 'Two-factor authentication turned on' : 'Two-factor authentication turned off',
    text: paragraphs.join('\n\n'),
    html,
  };
}

/** Sent when a sign-in provider is linked to an account, so an owner notices a way in they did not add. */
export function identityLinkedMail(to: string, providerLabel: string): MailMessage {
  const paragraphs = [
    `Signing in with ${providerLabel} now opens your account.`,
    'If you did not do this, remove it (unlinkIdentity, or ask your administrator) and reset your password.',
  ];
  const html = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return { to, subject: `${providerLabel} sign-in linked to your account`, text: paragraphs.join('\n\n'), html };
}
