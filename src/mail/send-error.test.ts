import { describe, expect, it } from 'vitest';
import { describeSendError } from './send-error.ts';

describe('describeSendError', () => {
  it('keeps the codes and drops addresses, links and long tokens', () => {
    const error = Object.assign(
      new Error(
        "Can't send mail - all recipients were rejected: 550 5.1.1 <ann@example.com>: unknown user ann@example.com; see https://gate.example/reset-password?token=abc.def token 0123456789abcdef0123456789abcdef",
      ),
      { code: 'EENVELOPE', responseCode: 550 },
    );
    const text = describeSendError(error);
    expect(text).toMatch(/^EENVELOPE 550: /);
    expect(text).not.toMatch(/ann|example\.com|https|token=|0123456789abcdef/);
  });

  it('describes an error without a message', () => {
    expect(describeSendError(undefined)).toBe('send failed');
    expect(describeSendError({ code: 'ECONNECTION' })).toBe('ECONNECTION');
  });
});
