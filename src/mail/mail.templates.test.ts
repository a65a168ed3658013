import { describe, expect, it } from 'vitest';
import { emailChangeConfirmationMail, emailChangeNoticeMail, emailVerificationMail, invitationMail } from './mail.templates.ts';

const hostile = `x"><script>alert(1)</script>&@example.com`;

describe('lifecycle mail templates', () => {
  it('escape values from users in the HTML part and keep them as typed in the text part', () => {
    for (const mail of [
      emailChangeNoticeMail('old@example.com', hostile),
      emailChangeConfirmationMail(hostile, 'https://app.example.com/c?token=a&b=1', 3600),
      invitationMail(hostile, 'https://app.example.com/i?token=a', 7 * 86400),
    ]) {
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).toContain('&lt;script&gt;');
      expect(mail.text).toContain(hostile);
    }
  });

  it('say how long the link works and carry it in both parts', () => {
    const mail = emailVerificationMail('a@example.com', 'https://app.example.com/v?token=T&x=1', 86400);
    expect(mail.text).toContain('within 1 day');
    expect(mail.text).toContain('https://app.example.com/v?token=T&x=1');
    expect(mail.html).toContain('href="https://app.example.com/v?token=T&amp;x=1"');
    expect(invitationMail('a@example.com', 'https://x.example/', 7 * 86400).text).toContain('within 7 days');
    expect(emailChangeConfirmationMail('a@example.com', 'https://x.example/', 3600).text).toContain('within 1 hour');
  });
});
