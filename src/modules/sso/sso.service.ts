import type { AuthProviderConfig } from '../../config/auth-providers.ts';
import type { Config } from '../../config/config.ts';
import { createOpaqueToken, parseOpaqueToken, secretMatches } from '../../crypto/tokens.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AppError } from '../../errors.ts';
import type { AuthMode } from '../../generated/prisma/enums.ts';
import type { Logger } from '../../log/logger.ts';
import { identityLinkedMail } from '../../mail/mail.templates.ts';
import type { MailOutbox } from '../../mail/outbox.service.ts';
import { DEFAULT_POLICIES } from '../access/access.bootstrap.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuthEventType } from '../audit/auth-event-types.ts';
import type { AuthService } from '../auth/auth.service.ts';
import type { ClientInfo, IssuedCredentials } from '../sessions/session.service.ts';
import type { TwoFactorService } from '../two-factor/two-factor.service.ts';
import { normalizeEmail } from '../users/users.validation.ts';
import { type ExternalProfile, ProviderClient, ProviderError } from './provider-client.ts';
import { allowedRedirect } from './sso-redirect.ts';
import { readState, type SignInState, STATE_TTL_SECONDS, sealState } from './sso-state.ts';

/** A login code (and a link ticket, and a pending-link code) lives this long and works once. */
export const LOGIN_CODE_TTL_SECONDS = 60;
const MODES: readonly AuthMode[] = ['JSON', 'COOKIE', 'SESSION'];

/** An event of single sign-on, for the audit log. */
const SSO_AUDIT_TYPES = {
  'sso.login': 'sso.login',
  'sso.user-created': 'sso.user_created',
  'sso.identity-linked': 'sso.identity_linked',
  'sso.identity-unlinked': 'sso.identity_unlinked',
  'sso.refused': 'sso.refused',
} as const satisfies Record<SsoEvent['type'], AuthEventType>;

export interface SsoEvent {
  type: 'sso.login' | 'sso.user-created' | 'sso.identity-linked' | 'sso.identity-unlinked' | 'sso.refused';
  provider: string;
  userId: string | null;
  /** The documented code of a refusal. */
  code?: string;
  ip: string | null;
}

/** What a completed callback tells the browser to do. */
export type CallbackOutcome =
  | { kind: 'session'; credentials: IssuedCredentials; redirect: string }
  | { kind: 'code'; code: string; otpRequired: boolean; redirect: string }
  | { kind: 'pending-link'; code: string; redirect: string };

/**
 * Single sign-on with the configured OpenID Connect and OAuth 2.0 providers. The provider's
 * subject is the key of an identity, never its email: an identity reaches an existing account by
 * email only when the provider asserts the address verified and is trusted for that
 * (AUTH_<NAME>_TRUST_EMAIL); otherwise its owner links it from a signed-in session. Sessions are
 * started by AuthService as for a password login (status, credential version, 2FA, policies).
 */
export class SsoService {
  private readonly clients = new Map<string, ProviderClient>();

  constructor(
    private readonly db: Database,
    private readonly auth: AuthService,
    private readonly twoFactor: TwoFactorService,
    private readonly config: Config,
    private readonly logger: Logger,
    /** Seals the browser's state cookie (derived from SECRET). */
    private readonly stateKey: Uint8Array,
    private readonly outbox: MailOutbox,
    private readonly auditLog: AuditLog,
  ) {
    for (const provider of config.authProviders) {
      this.clients.set(provider.name, new ProviderClient(provider, this.callbackUrl(provider.name)));
    }
  }

  providers(): readonly AuthProviderConfig[] {
    return this.config.authProviders;
  }

  provider(name: string): AuthProviderConfig | null {
    return this.clients.get(name)?.provider ?? null;
  }

  sealState(state: SignInState): string {
    return sealState(this.stateKey, state);
  }

  readState(cookieHeader: string | null, provider: string): SignInState | null {
    return readState(this.stateKey, cookieHeader, provider);
  }

  loginUrl(name: string): string {
    return `${this.config.publicUrl}/auth/login/${name}`;
  }

  callbackUrl(name: string): string {
    return `${this.loginUrl(name)}/callback`;
  }

  /**
   * The start of a flow: the validated redirect and mode, a fresh authorization request (PKCE
   * S256, state, nonce) and the state to seal into the browser's cookie. A `link` ticket (from
   * linkIdentity) is spent here and ties the flow to the session that asked for it.
   */
  async start(
    name: string,
    query: { redirect: string | null; mode: string | null; link: string | null },
  ): Promise<{ authorizationUrl: string; state: SignInState }> {
    const client = this.client(name);
    const redirect = allowedRedirect(query.redirect, client.provider.redirectAllowList);
    if (!redirect)
      throw new AppError('BAD_USER_INPUT', {
        message: `redirect: is not in AUTH_${name.toUpperCase()}_REDIRECT_ALLOW_LIST`,
        extensions: { field: 'redirect' },
      });
    const mode = (query.mode ?? 'JSON').toUpperCase() as AuthMode;
    if (!MODES.includes(mode))
      throw new AppError('BAD_USER_INPUT', { message: 'mode: must be JSON, COOKIE or SESSION', extensions: { field: 'mode' } });
    let request: Awaited<ReturnType<ProviderClient['authorizationRequest']>>;
    try {
      request = await client.authorizationRequest();
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      this.logger.warn({ provider: name, reason: error.code, err: describe(error.cause) }, 'single sign-on provider unavailable');
      throw new AppError(error.code, { cause: error.cause });
    }
    // Spent only once the provider is reachable, so an outage does not cost the user their ticket.
    const link = query.link === null ? null : await this.spendLinkTicket(query.link, name);
    return {
      authorizationUrl: request.url.href,
      state: {
        provider: name,
        state: request.state,
        nonce: request.nonce,
        codeVerifier: request.codeVerifier,
        redirect,
        mode,
        link,
        expiresAt: Date.now() + STATE_TTL_SECONDS * 1000,
      },
    };
  }

  /**
   * The provider's answer, in the browser holding `state` (null: no valid cookie, which is an
   * error whatever the URL says). Verifies it (openid-client), then finds, links or creates the
   * account and starts its session, or hands out a login code when the app trades one.
   */
  async complete(name: string, callbackUrl: URL, state: SignInState | null, client: ClientInfo): Promise<CallbackOutcome> {
    const provider = this.client(name);
    // Without our state there is nothing to check the answer against: a forged or replayed callback.
    if (!state || callbackUrl.searchParams.get('state') !== state.state) throw new AppError('SSO_STATE_INVALID');
    let profile: ExternalProfile;
    try {
      profile = await provider.complete(callbackUrl, state);
    } catch (error) {
      if (error instanceof ProviderError) {
        this.logger.warn({ provider: name, reason: error.code, err: describe(error.cause) }, 'single sign-on answer refused');
        throw new AppError(error.code, { cause: error.cause });
      }
      throw error;
    }
    if (state.link) return this.pendingLink(provider.provider, profile, state);
    const user = await this.findOrCreateUser(provider.provider, profile, client);
    if (user.status !== 'ACTIVE') throw new AppError('INVALID_CREDENTIALS');
    const mfaAsserted = provider.provider.mfaAmr.some((v) => profile.amr.includes(v));
    const otpRequired = !mfaAsserted && (await this.twoFactor.isEnabled(user.id));
    this.record({ type: 'sso.login', provider: name, userId: user.id, ip: client.ip });
    if (state.mode === 'JSON' || otpRequired) {
      const code = await this.createCode({
        purpose: 'login',
        userId: user.id,
        provider: name,
        mode: state.mode,
        otpRequired,
        credentialVersion: user.credentialVersion,
      });
      return { kind: 'code', code, otpRequired, redirect: state.redirect };
    }
    const credentials = await this.auth.loginWithExternalIdentity(user, { required: false, code: null }, state.mode, client);
    return { kind: 'session', credentials, redirect: state.redirect };
  }

  /**
   * Trades a login code for credentials, once, within LOGIN_CODE_TTL_SECONDS. A code that still
   * needs the account's OTP is not spent by asking without one (OTP_REQUIRED); any other attempt
   * spends it, so a wrong OTP means a new sign-in.
   */
  async exchangeLoginCode(code: string, mode: AuthMode | null, otp: string | null, client: ClientInfo): Promise<IssuedCredentials> {
    const parsed = parseOpaqueToken(code);
    const row =
      parsed &&
      (await this.db.loginCode.findUnique({
        where: { id: parsed.id },
        include: { user: { select: { email: true, status: true } } },
      }));
    if (!parsed || !row || row.purpose !== 'login' || !secretMatches(parsed.secret, row.secretHash) || row.usedAt)
      throw new AppError('INVALID_TOKEN');
    if (row.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');
    if (row.otpRequired && !otp) throw new AppError('OTP_REQUIRED');
    const claimed = await this.db.loginCode.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count !== 1) throw new AppError('INVALID_TOKEN');
    if (row.user.status !== 'ACTIVE') throw new AppError('INVALID_CREDENTIALS');
    return this.auth.loginWithExternalIdentity(
      { id: row.userId, email: row.user.email, credentialVersion: row.credentialVersion },
      { required: row.otpRequired, code: otp },
      mode ?? row.mode,
      client,
    );
  }

  /** A URL that starts linking `provider` to the signed-in user: a one-time ticket, 60 s. */
  async createLinkUrl(userId: string, sessionId: string, name: string, redirectInput: string | null): Promise<string> {
    const provider = this.provider(name);
    if (!provider) throw new AppError('BAD_USER_INPUT', { message: 'provider: is not configured', extensions: { field: 'provider' } });
    const redirect = allowedRedirect(redirectInput, provider.redirectAllowList);
    if (!redirect)
      throw new AppError('BAD_USER_INPUT', {
        message: `redirect: is not in AUTH_${name.toUpperCase()}_REDIRECT_ALLOW_LIST`,
        extensions: { field: 'redirect' },
      });
    const user = await this.db.user.findUniqueOrThrow({ where: { id: userId }, select: { credentialVersion: true } });
    const ticket = await this.createCode({
      purpose: 'link',
      userId,
      provider: name,
      credentialVersion: user.credentialVersion,
      sessionId,
    });
    const url = new URL(this.loginUrl(name));
    url.searchParams.set('redirect', redirect);
    url.searchParams.set('link', ticket);
    return url.href;
  }

  listIdentities(userId: string) {
    return this.db.identity.findMany({
      where: { userId },
      orderBy: { createdAt: 'asc' },
      select: { provider: true, email: true, createdAt: true, lastUsedAt: true },
    });
  }

  /**
   * Removes the user's identity of `provider`, unless the account would be left with no way in:
   * no password and no identity of another configured provider (LAST_LOGIN_METHOD).
   */
  async unlinkIdentity(userId: string, name: string, ip: string | null): Promise<void> {
    const removed = await this.db.$transaction(async (tx) => {
      // The user row locked: two unlinks at once cannot each leave the other as the last way in.
      const [user] = await tx.$queryRaw<{ hasPassword: boolean }[]>`
        SELECT "passwordHash" IS NOT NULL AS "hasPassword" FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`;
      const identities = await tx.identity.findMany({ where: { userId }, select: { id: true, provider: true } });
      const target = identities.find((i) => i.provider === name);
      if (!user || !target) throw new AppError('NOT_FOUND');
      const configured = new Set(this.config.authProviders.map((p) => p.name));
      const others = identities.filter((i) => i !== target && configured.has(i.provider));
      if (!user.hasPassword && others.length === 0) throw new AppError('LAST_LOGIN_METHOD');
      await tx.identity.delete({ where: { id: target.id } });
      return true;
    });
    if (removed) this.record({ type: 'sso.identity-unlinked', provider: name, userId, ip });
  }

  /** The one place single sign-on events leave this service: the log and the audit log, without tokens or addresses. */
  record(event: SsoEvent): void {
    this.logger.info({ event: event.type, provider: event.provider, userId: event.userId, code: event.code }, 'single sign-on');
    this.auditLog.record({
      type: SSO_AUDIT_TYPES[event.type],
      outcome: event.type === 'sso.refused' ? 'failure' : 'success',
      userId: event.userId,
      ip: event.ip,
      details: { provider: event.provider, ...(event.code ? { code: event.code } : {}) },
    });
  }

  private client(name: string): ProviderClient {
    const client = this.clients.get(name);
    if (!client) throw new AppError('NOT_FOUND');
    return client;
  }

  private async findOrCreateUser(provider: AuthProviderConfig, profile: ExternalProfile, client: ClientInfo) {
    const select = { id: true, email: true, status: true, credentialVersion: true, emailVerifiedAt: true } as const;
    const identity = await this.db.identity.findUnique({
      where: { provider_subject: { provider: provider.name, subject: profile.subject } },
      select: { id: true, user: { select } },
    });
    if (identity) {
      await this.db.identity.update({ where: { id: identity.id }, data: { lastUsedAt: new Date() } });
      return identity.user;
    }
    const email = safeEmail(profile.email);
    const existing = email ? await this.db.user.findUnique({ where: { email }, select }) : null;
    if (existing) {
      // Someone who controls an address at the provider is not thereby the account's owner: only
      // a verified address at a provider trusted for it links, and only to an active account whose
      // owner has proven the address too (else whoever created the account first, e.g. through a
      // public createUser, would share it with the address's owner); otherwise the owner links it.
      if (!provider.trustEmail || !profile.emailVerified || existing.status !== 'ACTIVE' || !existing.emailVerifiedAt)
        throw new AppError('EMAIL_TAKEN');
      await this.createIdentity(existing.id, provider, profile);
      this.record({ type: 'sso.identity-linked', provider: provider.name, userId: existing.id, ip: client.ip });
      return existing;
    }
    if (!provider.allowPublicRegistration) throw new AppError('SSO_REGISTRATION_CLOSED');
    if (!email) throw new AppError('SSO_EMAIL_REQUIRED');
    const user = await this.createUser(provider, profile, email);
    this.record({ type: 'sso.user-created', provider: provider.name, userId: user.id, ip: client.ip });
    return user;
  }

  /** A new account without a password, with the provider's default role and policies, and its identity. */
  private async createUser(provider: AuthProviderConfig, profile: ExternalProfile, email: string) {
    const names = provider.defaultPolicies.length > 0 ? provider.defaultPolicies : [DEFAULT_POLICIES.user];
    const policies = await this.db.policy.findMany({ where: { name: { in: names } }, select: { id: true, name: true } });
    const role = provider.defaultRoleId
      ? await this.db.role.findUnique({ where: { id: provider.defaultRoleId }, select: { id: true } })
      : null;
    if (policies.length !== names.length || (provider.defaultRoleId && !role)) {
      this.logger.error(
        { provider: provider.name, missingPolicies: names.filter((n) => !policies.some((p) => p.name === n)), roleFound: !!role },
        'single sign-on cannot create accounts: a default policy or role of the provider does not exist',
      );
      throw new AppError('SSO_REGISTRATION_CLOSED');
    }
    try {
      return await this.db.user.create({
        data: {
          email,
          passwordHash: null,
          // The provider vouches for the address only where it is trusted to (_TRUST_EMAIL).
          emailVerifiedAt: provider.trustEmail && profile.emailVerified ? new Date() : null,
          status: 'ACTIVE',
          roleId: role?.id ?? null,
          policies: { create: policies.map((p) => ({ policyId: p.id })) },
          identities: {
            create: [{ provider: provider.name, subject: profile.subject, email: profile.email, lastUsedAt: new Date() }],
          },
        },
        select: { id: true, email: true, status: true, credentialVersion: true },
      });
    } catch (error) {
      // The same address registered meanwhile, or the same identity signing in twice at once.
      if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN', { cause: error });
      throw error;
    }
  }

  /** A new way into the account: its owner is mailed, in the same transaction (the outbox sends it). */
  private async createIdentity(
    userId: string,
    provider: AuthProviderConfig,
    profile: Pick<ExternalProfile, 'subject' | 'email'>,
  ): Promise<void> {
    try {
      await this.db.$transaction(async (tx) => {
        const identity = await tx.identity.create({
          data: { userId, provider: provider.name, subject: profile.subject, email: profile.email, lastUsedAt: new Date() },
          select: { user: { select: { email: true } } },
        });
        await this.outbox.enqueue(tx, { ...identityLinkedMail(identity.user.email, provider.label), kind: 'identity-linked' });
      });
      this.outbox.wake();
    } catch (error) {
      // Taken by another account, or this account already has an identity of this provider.
      if (isUniqueViolation(error)) throw new AppError('SSO_IDENTITY_TAKEN', { cause: error });
      throw error;
    }
  }

  /**
   * The callback of a link flow writes nothing: whoever's browser completed it (the asker's, or a
   * victim's sent the ticket's URL) gets a pending-link code on the redirect, which links only when
   * confirmLinkIdentity presents it from the very session that asked (see confirmLinkIdentity).
   */
  private async pendingLink(provider: AuthProviderConfig, profile: ExternalProfile, state: SignInState): Promise<CallbackOutcome> {
    const link = state.link as NonNullable<SignInState['link']>;
    await this.liveLinkSession(link.userId, link.sessionId);
    // Told early, so the user is not asked to confirm what cannot be linked (checked again at confirm).
    const existing = await this.db.identity.findUnique({
      where: { provider_subject: { provider: provider.name, subject: profile.subject } },
      select: { userId: true },
    });
    if (existing && existing.userId !== link.userId) throw new AppError('SSO_IDENTITY_TAKEN');
    const user = await this.db.user.findUniqueOrThrow({ where: { id: link.userId }, select: { credentialVersion: true } });
    const code = await this.createCode({
      purpose: 'pending-link',
      userId: link.userId,
      provider: provider.name,
      credentialVersion: user.credentialVersion,
      sessionId: link.sessionId,
      subject: profile.subject,
      email: profile.email,
    });
    return { kind: 'pending-link', code, redirect: state.redirect };
  }

  /**
   * Links the identity a link flow's provider vouched for, once the app presents its pending-link
   * code from a signed-in viewer whose user AND session are those that called linkIdentity. Any
   * presentation spends the code, so one from another session (a victim's app that received it)
   * also leaves nothing for the asker to confirm afterwards: SSO_STATE_INVALID, nothing linked.
   */
  async confirmLinkIdentity(viewer: { userId: string; sessionId: string }, code: string, ip: string | null): Promise<void> {
    const parsed = parseOpaqueToken(code);
    const row = parsed && (await this.db.loginCode.findUnique({ where: { id: parsed.id } }));
    if (!parsed || !row || row.purpose !== 'pending-link' || !row.subject || !secretMatches(parsed.secret, row.secretHash) || row.usedAt)
      throw new AppError('INVALID_TOKEN');
    if (row.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');
    const claimed = await this.db.loginCode.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count !== 1) throw new AppError('INVALID_TOKEN');
    if (row.userId !== viewer.userId || row.sessionId !== viewer.sessionId) {
      this.record({ type: 'sso.refused', provider: row.provider, userId: viewer.userId, code: 'SSO_STATE_INVALID', ip });
      throw new AppError('SSO_STATE_INVALID');
    }
    const provider = this.provider(row.provider);
    if (!provider) throw new AppError('SSO_STATE_INVALID');
    await this.liveLinkSession(row.userId, viewer.sessionId);
    // A password change (or any credential change) since the provider vouched voids the code.
    const user = await this.db.user.findUnique({ where: { id: row.userId }, select: { credentialVersion: true } });
    if (!user || user.credentialVersion !== row.credentialVersion) throw new AppError('SSO_STATE_INVALID');
    const profile = { subject: row.subject, email: row.email };
    const existing = await this.db.identity.findUnique({
      where: { provider_subject: { provider: provider.name, subject: profile.subject } },
      select: { id: true, userId: true },
    });
    if (existing && existing.userId !== row.userId) throw new AppError('SSO_IDENTITY_TAKEN');
    if (existing) await this.db.identity.update({ where: { id: existing.id }, data: { lastUsedAt: new Date() } });
    else await this.createIdentity(row.userId, provider, profile);
    this.record({ type: 'sso.identity-linked', provider: provider.name, userId: row.userId, ip });
  }

  /** The session that asked must still be live: a link is not a way back into an ended session. */
  private async liveLinkSession(userId: string, sessionId: string): Promise<void> {
    const session = await this.db.session.findUnique({
      where: { id: sessionId },
      select: { userId: true, revokedAt: true, expiresAt: true, user: { select: { status: true } } },
    });
    if (!session || session.userId !== userId || session.revokedAt || session.expiresAt.getTime() <= Date.now())
      throw new AppError('UNAUTHENTICATED');
    if (session.user?.status !== 'ACTIVE') throw new AppError('INVALID_CREDENTIALS');
  }

  private async spendLinkTicket(ticket: string, provider: string): Promise<{ userId: string; sessionId: string }> {
    const parsed = parseOpaqueToken(ticket);
    const row = parsed && (await this.db.loginCode.findUnique({ where: { id: parsed.id } }));
    if (
      !parsed ||
      !row ||
      row.purpose !== 'link' ||
      row.provider !== provider ||
      !row.sessionId ||
      !secretMatches(parsed.secret, row.secretHash)
    )
      throw new AppError('INVALID_TOKEN');
    if (row.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');
    const claimed = await this.db.loginCode.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count !== 1) throw new AppError('INVALID_TOKEN');
    return { userId: row.userId, sessionId: row.sessionId };
  }

  private async createCode(input: {
    purpose: 'login' | 'link' | 'pending-link';
    userId: string;
    provider: string;
    credentialVersion: number;
    mode?: AuthMode;
    otpRequired?: boolean;
    sessionId?: string;
    subject?: string;
    email?: string | null;
  }): Promise<string> {
    const opaque = createOpaqueToken();
    await this.db.loginCode.create({
      data: {
        id: opaque.id,
        secretHash: opaque.secretHash,
        purpose: input.purpose,
        sessionId: input.sessionId ?? null,
        userId: input.userId,
        provider: input.provider,
        subject: input.subject ?? null,
        email: input.email ?? null,
        mode: input.mode ?? 'JSON',
        otpRequired: input.otpRequired ?? false,
        credentialVersion: input.credentialVersion,
        expiresAt: new Date(Date.now() + LOGIN_CODE_TTL_SECONDS * 1000),
      },
    });
    return opaque.token;
  }
}

function safeEmail(raw: string | null): string | null {
  if (!raw) return null;
  try {
    return normalizeEmail(raw);
  } catch {
    return null;
  }
}

/** The name and code of a provider failure, for the log: never its body or the tokens. */
function describe(error: unknown): Record<string, unknown> | undefined {
  if (!(error instanceof Error)) return undefined;
  return { name: error.name, code: (error as { code?: unknown }).code, message: error.message.slice(0, 200) };
}
