// The one list of mutations an attacker would repeat: guessing passwords (login, changePassword, and
// later the 2FA fields), replaying tokens (refresh, resetPassword), mail bombing (requestPasswordReset) and
// mass registration (createUser, register). Each is refused at validation when a document names it more
// than once (aliases and fragments included), and each with limits gets RATE_LIMIT_<NAME>_IP and
// RATE_LIMIT_<NAME>_ACCOUNT variables with these defaults. Adding an operation is one line here;
// its resolver then calls enforceRateLimit first.
//
// "account" is the target the attempt is aimed at: the normalised email for login, createUser and
// requestPasswordReset; the signed-in user for changePassword (a stolen session must not become a
// password oracle); the token's id for refresh and resetPassword (the account is unknown
// before a database read, and reading it would be the work the limit exists to avoid).
// `splitKnownIps`: an IP that has signed in to the account recently gets a budget of its own, so an
// attacker spending the account's budget cannot keep its owner out.
export const SENSITIVE_OPERATIONS = {
  login: { ip: '30/1m', account: '10/15m', splitKnownIps: true },
  refresh: { ip: '120/1m', account: '10/1m' },
  requestPasswordReset: { ip: '10/15m', account: '3/1h' },
  resetPassword: { ip: '10/15m', account: '5/15m' },
  createUser: { ip: '10/1h', account: '3/1h' },
  changePassword: { ip: '10/15m', account: '5/15m' },
  // Two-factor fields guess a password (generate) or a code (the rest); account = the viewer.
  generateTwoFactorSecret: { ip: '10/15m', account: '5/15m' },
  enableTwoFactor: { ip: '20/15m', account: '10/15m' },
  disableTwoFactor: { ip: '20/15m', account: '10/15m' },
  regenerateRecoveryCodes: { ip: '20/15m', account: '10/15m' },
  // The account lifecycle: mails to an address (account = that email, or the signed-in user for
  // requestEmailChange, which checks a password) and tokens from those mails (account = token id).
  register: { ip: '10/1h', account: '3/1h' },
  verifyEmail: { ip: '10/15m', account: '5/15m' },
  resendVerificationEmail: { ip: '10/15m', account: '3/1h' },
  inviteUser: { ip: '60/1h', account: '3/1h' },
  acceptInvite: { ip: '10/15m', account: '5/15m' },
  requestEmailChange: { ip: '10/15m', account: '5/15m' },
  confirmEmailChange: { ip: '10/15m', account: '5/15m' },
  // Single sign-on: account = the login code's id; the redirect routes count per IP only.
  exchangeLoginCode: { ip: '30/1m', account: '5/1m' },
  ssoLogin: { ip: '60/1m', account: 'off' },
  // Once per document, but not counted: it only ends the caller's own session.
  logout: null,
} as const satisfies Record<string, { ip: string; account: string; splitKnownIps?: boolean } | null>;

export type SensitiveOperation = keyof typeof SENSITIVE_OPERATIONS;

export type RateLimitedOperation = {
  [K in SensitiveOperation]: (typeof SENSITIVE_OPERATIONS)[K] extends null ? never : K;
}[SensitiveOperation];

export const SENSITIVE_FIELD_NAMES: ReadonlySet<string> = new Set(Object.keys(SENSITIVE_OPERATIONS));

export const RATE_LIMITED_OPERATIONS = Object.entries(SENSITIVE_OPERATIONS)
  .filter(([, limits]) => limits !== null)
  .map(([name]) => name as RateLimitedOperation);

/** `requestPasswordReset` -> `REQUEST_PASSWORD_RESET`, for the environment variable names. */
export function operationEnvName(operation: RateLimitedOperation, dimension: 'ip' | 'account'): string {
  return `RATE_LIMIT_${operation.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_${dimension.toUpperCase()}`;
}
