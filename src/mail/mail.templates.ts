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

/** "1 day", "7 days", "1 hour", "30 minutes": how long a link works, rounded to the largest unit. */
function validFor(seconds: number): string {
  const [amount, unit] =
    seconds >= 86_400
      ? [Math.round(seconds / 86_400), 'day']
      : seconds >= 3600
        ? [Math.round(seconds / 3600), 'hour']
        : [Math.max(1, Math.round(seconds / 60)), 'minute'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

/** A mail of paragraphs and one link; every paragraph is escaped in the HTML part. */
function linkMail(to: string, subject: string, before: string[], linkLabel: string, link: string, after: string[]): MailMessage {
  const text = [...before, link, ...after].join('\n\n');
  const html = [
    ...before.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p><a href="${escapeHtml(link)}">${escapeHtml(linkLabel)}</a></p>`,
    ...after.map((p) => `<p>${escapeHtml(p)}</p>`),
  ].join('\n');
  return { to, subject, text, html };
}

function noticeMail(to: string, subject: string, paragraphs: string[]): MailMessage {
  const html = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return { to, subject, text: paragraphs.join('\n\n'), html };
}

/** After register (or resendVerificationEmail): the link that makes the account usable. */
export function emailVerificationMail(to: string, link: string, ttlSeconds: number): MailMessage {
  return linkMail(
    to,
    'Confirm your email address',
    [`An account was registered with this address. To confirm it, open this link within ${validFor(ttlSeconds)}:`],
    'Confirm your email address',
    link,
    ['If you did not register, ignore this email: the account stays unusable and nothing else happens.'],
  );
}

/** register with an address that has an account: the owner learns of it, the caller learns nothing. */
export function registrationAttemptMail(to: string): MailMessage {
  return noticeMail(to, 'Someone tried to register with your address', [
    'Someone tried to register a new account with this email address, which already has an account. No new account was created.',
    'If it was you, sign in with your existing account, or reset your password if you forgot it. If your account was never confirmed, ask for a new confirmation email.',
    'If it was not you, you can ignore this email.',
  ]);
}

/** inviteUser: the link that lets the invitee choose a password. */
export function invitationMail(to: string, link: string, ttlSeconds: number): MailMessage {
  return linkMail(
    to,
    'You are invited to create an account',
    [`You were invited to create an account for ${to}.`, `To accept, open this link within ${validFor(ttlSeconds)} and choose a password:`],
    'Accept the invitation',
    link,
    ['If you did not expect this invitation, ignore this email.'],
  );
}

/** requestEmailChange, to the new address: the link that makes it the account's address. */
export function emailChangeConfirmationMail(to: string, link: string, ttlSeconds: number): MailMessage {
  return linkMail(
    to,
    'Confirm your new email address',
    [`Someone asked to make ${to} the email address of their account. To confirm, open this link within ${validFor(ttlSeconds)}:`],
    'Confirm the new address',
    link,
    ['If it was not you, ignore this email: nothing changes.'],
  );
}

/** requestEmailChange, to the current address: so an owner notices a change they did not ask for. */
export function emailChangeNoticeMail(to: string, newEmail: string): MailMessage {
  return noticeMail(to, 'A change of your email address was requested', [
    `Someone signed in to your account asked to change its email address to ${newEmail}. The change happens only once that address confirms it.`,
    'If it was not you, change your password now: whoever asked knows it.',
  ]);
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
