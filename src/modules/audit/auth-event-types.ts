/**
 * Every type of event the audit log records, in one place. To record a new kind of event, add its
 * name here (dot-separated, `<subject>.<what happened>`) and call AuditLog.record where it happens;
 * the metrics counter and the GraphQL `type` argument pick it up from this list.
 */
export const AUTH_EVENT_TYPES = [
  // Sign-in and tokens
  'login.succeeded',
  'login.failed',
  'token.refreshed',
  'token.reuse_detected',
  'logout',
  'logout.all',
  'session.revoked',
  // Credentials
  'password.changed',
  'password.reset_requested',
  'password.reset_completed',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.recovery_code_used',
  // Accounts
  'user.created',
  'user.registered',
  'user.invited',
  'user.invite_accepted',
  'user.email_verified',
  'email.change_requested',
  'email.changed',
  'user.status_changed',
  'user.deleted',
  // Single sign-on
  'sso.login',
  'sso.user_created',
  'sso.identity_linked',
  'sso.identity_unlinked',
  'sso.refused',
  // Access control and keys
  'role.changed',
  'policy.changed',
  'permission.changed',
  'signing_key.rotated',
  // Abuse controls
  'rate_limit.triggered',
  'lockout.triggered',
] as const;

export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/** Whether the action the event records went through or was refused. */
export type AuthEventOutcome = 'success' | 'failure';

/** Why a login failed, as the log records it (clients see one INVALID_CREDENTIALS for most). */
export type LoginFailureReason =
  | 'bad_credentials'
  | 'not_active'
  | 'email_not_verified'
  | 'otp_required'
  | 'otp_invalid'
  | 'locked'
  | 'rate_limited'
  | 'busy';

/** The events a signed-in user sees about their own account (`viewer { securityEvents }`). */
export const SECURITY_EVENT_TYPES: readonly AuthEventType[] = [
  'login.succeeded',
  'login.failed',
  'token.reuse_detected',
  'logout.all',
  'session.revoked',
  'password.changed',
  'password.reset_completed',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.recovery_code_used',
  'lockout.triggered',
  'email.change_requested',
  'email.changed',
  'sso.login',
  'sso.identity_linked',
  'sso.identity_unlinked',
];

/** Scalar details only, small: never a secret, token, password or clear-text unknown address. */
export type AuthEventDetails = Record<string, string | number | boolean | null>;

export interface AuthEventInput {
  type: AuthEventType;
  outcome?: AuthEventOutcome;
  /** The account the event is about, when known. */
  userId?: string | null;
  /** Who did it, when not the user themself (an administrator, say). */
  actorId?: string | null;
  sessionId?: string | null;
  /** The address typed for an account that may not exist: stored only as a keyed hash. */
  email?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  details?: AuthEventDetails;
}
