import { type Logger, pino } from 'pino';

export type { Logger };

// Keys whose values never reach a log line, wherever they sit in the logged object.
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'refreshToken',
  'accessToken',
  'otp',
  'secret',
  'authorization',
  'cookie',
  'link',
];

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
  });
}
