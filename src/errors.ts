// The one map of error codes that leave the service. Each has a fixed public message; the
// detail a caller may see (a field name, a retry hint) goes in `extensions`, and the internal
// cause stays in the logs. README's error table mirrors this map.
export const ERROR_CODES = {
  UNAUTHENTICATED: 'You must be signed in to do this.',
  FORBIDDEN: 'You are not allowed to do this.',
  INVALID_CREDENTIALS: 'Invalid email or password.',
  INVALID_TOKEN: 'The token is invalid, used or revoked.',
  TOKEN_EXPIRED: 'The token has expired.',
  BAD_USER_INPUT: 'The input is invalid.',
  EMAIL_TAKEN: 'An account with this email already exists.',
  NOT_FOUND: 'Nothing was found, or you may not access it.',
  LAST_ADMIN: 'This would leave no active administrator.',
  INVALID_CURRENT_PASSWORD: 'The current password is not correct.',
  GRAPHQL_VALIDATION_FAILED: 'The request is not a valid GraphQL operation for this schema.',
  CSRF_REJECTED: 'Send a POST with a JSON body, or a GET with an Authorization or CSRF-prevention header.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  SERVICE_BUSY: 'The service is busy. Try again shortly.',
  EMAIL_NOT_VERIFIED: 'Confirm your email address first: open the link we mailed you (or ask for a new one).',
  OTP_REQUIRED: 'This account needs a code from its authenticator app (or a recovery code).',
  INVALID_OTP: 'The code is wrong, expired or already used.',
  TWO_FACTOR_ENROLMENT_REQUIRED: 'Your access policy requires two-factor authentication: enrol first.',
  SENSITIVE_FIELD_REPEATED: 'This operation may appear only once per request.',
  BATCHING_NOT_SUPPORTED: 'Send one operation per request; batched requests are not supported.',
  REQUEST_TOO_LARGE: 'The request body is too large.',
  QUERY_TOO_DEEP: 'The query is nested too deeply.',
  QUERY_TOO_MANY_ALIASES: 'The query uses too many aliases.',
  QUERY_TOO_MANY_TOKENS: 'The query is too long.',
  QUERY_TOO_MANY_DIRECTIVES: 'The query uses too many directives.',
  QUERY_TOO_COSTLY: 'The query asks for too much at once.',
  INTROSPECTION_DISABLED: 'Introspection is disabled on this server.',
  BAD_REQUEST: 'The request is malformed.',
  METHOD_NOT_ALLOWED: 'This method is not allowed here.',
  REQUEST_TIMEOUT: 'The request took too long to arrive.',
  // Apollo's automatic persisted queries name these messages in their protocol.
  PERSISTED_QUERY_NOT_FOUND: 'PersistedQueryNotFound',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PersistedQueryNotSupported',
  PERSISTED_QUERY_MISMATCH: 'PersistedQueryMismatch',
  PERSISTED_OPERATION_NOT_FOUND: 'This operation is not one of the trusted operations this server runs.',
  PERSISTED_OPERATIONS_ONLY: 'This server runs trusted operations only: send the id of a known operation, not a document.',
  // Single sign-on: these reach the app as `?error=<CODE>` on its redirect (see README, Single sign-on).
  SSO_STATE_INVALID: 'The sign-in could not be matched to this browser, or took too long: start it again.',
  SSO_FAILED: "The identity provider's answer could not be verified: start the sign-in again.",
  SSO_ACCESS_DENIED: 'The sign-in was cancelled or refused at the identity provider.',
  SSO_PROVIDER_UNAVAILABLE: 'The identity provider could not be reached. Try again shortly.',
  SSO_REGISTRATION_CLOSED: 'No account is linked to this identity, and this provider does not create accounts.',
  SSO_EMAIL_REQUIRED: 'The identity provider did not share an email address, which a new account needs.',
  SSO_IDENTITY_TAKEN: 'This external identity is already linked to another account.',
  LAST_LOGIN_METHOD: 'This would leave the account with no way to sign in.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Try again shortly.',
  INTERNAL_SERVER_ERROR: 'Unexpected error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, options: { message?: string; extensions?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.message ?? ERROR_CODES[code], { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.extensions = options.extensions ?? {};
  }
}

/** A field-level input problem: the message names the field, never echoes its value. */
export function badInput(field: string, reason: string): AppError {
  return new AppError('BAD_USER_INPUT', { message: `${field}: ${reason}`, extensions: { field } });
}

export function forbiddenField(field: string, verb = 'set'): AppError {
  return new AppError('FORBIDDEN', { message: `You are not allowed to ${verb} the field "${field}".`, extensions: { field } });
}
