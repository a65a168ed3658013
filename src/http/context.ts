import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors.ts';
import { noteUserId } from '../log/request-info.ts';
import type { Access } from '../modules/access/access.types.ts';
import type { ClientInfo } from '../modules/sessions/session.service.ts';
import type { Services } from '../services.ts';
import { readClientInfo } from './client-info.ts';
import { type RequestCookies, ResponseCookies, readAuthCookies } from './cookies.ts';

export interface Viewer {
  userId: string;
  sessionId: string;
  via: 'bearer' | 'session';
}

export interface Context {
  viewer: Viewer | null;
  access: Access;
  /** A policy of the viewer requires 2FA and they have none yet: only enrolment is open to them. */
  twoFactorEnrolmentRequired: boolean;
  /** Credentials were presented but failed; fields needing a viewer report this, not UNAUTHENTICATED. */
  authError: AppError | null;
  client: ClientInfo;
  cookies: RequestCookies;
  responseCookies: ResponseCookies;
  services: Services;
  config: Config;
}

type Credential = { viewer: Viewer; access: (ip: string | null) => Promise<Access> } | { error: AppError } | null;

/**
 * Request -> Context. Credential extractors run in order (bearer header, then session cookie);
 * the first one present decides. Bad credentials give viewer = null and an authError; this step
 * never throws for anything the client sent.
 */
export async function buildContext(
  request: Request,
  req: IncomingMessage | undefined,
  services: Services,
  config: Config,
): Promise<Context> {
  const cookies = readAuthCookies(request.headers.get('cookie'), config.cookies);
  const client = readClientInfo(request, req, config.trustedProxies);
  const credential = (await fromBearer(request, services)) ?? (await fromSessionCookie(cookies, services));
  const viewer = credential && 'viewer' in credential ? credential.viewer : null;
  noteUserId(viewer?.userId);
  const access = credential && 'viewer' in credential ? await credential.access(client.ip) : await services.access.publicAccess(client.ip);
  // Only viewers under an enforcing policy pay for this look-up; everyone else's path stays DB-free.
  const twoFactorEnrolmentRequired = !!viewer && access.enforceTwoFactor && !(await services.twoFactor.isEnabled(viewer.userId));
  return {
    viewer,
    access,
    twoFactorEnrolmentRequired,
    authError: credential && 'error' in credential ? credential.error : null,
    client,
    cookies,
    responseCookies: new ResponseCookies(config.cookies),
    services,
    config,
  };
}

/** Verifies the JWT and checks its session against the in-memory revocation view: no database round trip. */
async function fromBearer(request: Request, services: Services): Promise<Credential> {
  const header = request.headers.get('authorization');
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(header.trim());
  if (!match?.[1]) return { error: new AppError('INVALID_TOKEN') };
  const result = await services.signingKeys.verify(match[1]);
  if (!result.ok) return { error: new AppError(result.reason === 'expired' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN') };
  const { userId, sessionId, policies, issuedAt, twoFactorEnrolmentRequired } = result.claims;
  if (services.revocations.isRevoked(sessionId)) return { error: new AppError('INVALID_TOKEN') };
  // The token carries the names of the policies in force when it was issued; the in-memory policy
  // snapshot turns them into access, and allow-lists are checked against this request's address.
  // The user's policies are read afresh instead when they changed since the token was issued,
  // and for a token issued while 2FA enrolment was required: it names none, and only the user's
  // own policies can say what enrolment allows (TWO_FACTOR_ENROLMENT_REQUIRED until 2FA is on).
  const access =
    twoFactorEnrolmentRequired || services.accessChanges.isStale(userId, issuedAt)
      ? async (ip: string | null) => services.access.accessForPolicies(await services.access.policyIdsOfUser(userId), ip)
      : (ip: string | null) => services.access.accessForPolicyNames(policies, ip);
  return { viewer: { userId, sessionId, via: 'bearer' }, access };
}

async function fromSessionCookie(cookies: RequestCookies, services: Services): Promise<Credential> {
  if (!cookies.session) return null;
  const session = await services.sessions.validateSessionCookie(cookies.session);
  if (!session) return { error: new AppError('INVALID_TOKEN') };
  return {
    viewer: { userId: session.userId, sessionId: session.sessionId, via: 'session' },
    access: (ip) => services.access.accessForPolicies(session.policyIds, ip),
  };
}
