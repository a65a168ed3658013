import { AppError } from '../../errors.ts';
import { type AuthMode as AuthModeValue, AuthMode as AuthModeValues } from '../../generated/prisma/enums.ts';
import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../http/context.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';
import type { IssuedCredentials } from '../sessions/session.service.ts';

export const AuthMode = builder.enumType(AuthModeValues, {
  name: 'AuthMode',
  description:
    'JSON: both tokens in the body. COOKIE: access token in the body, refresh token in an HttpOnly cookie. SESSION: only an HttpOnly session cookie.',
});

interface AuthPayloadShape {
  accessToken: string | null;
  refreshToken: string | null;
  expiresIn: number;
  userId: string;
}

export const AuthPayload = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { nullable: true }),
    refreshToken: t.exposeString('refreshToken', { nullable: true }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until the access token (or, in SESSION mode, the session) expires.' }),
    user: t.prismaField({
      type: 'User',
      resolve: async (query, payload, _args, ctx) => {
        const user = await ctx.services.users.findById(payload.userId, query);
        if (!user) throw new AppError('INVALID_TOKEN');
        // The request itself was anonymous: the signed-in account reads as itself.
        return ctx.services.users.asSelf(user, ctx.client.ip);
      },
    }),
  }),
});

/** Puts each credential where its mode says: the body, or an HttpOnly cookie. */
export function deliver(ctx: Context, creds: IssuedCredentials): AuthPayloadShape {
  const payload = { accessToken: creds.accessToken, refreshToken: null as string | null, expiresIn: creds.expiresIn, userId: creds.userId };
  if (creds.mode === 'JSON') payload.refreshToken = creds.token;
  else ctx.responseCookies.set(creds.mode === 'COOKIE' ? 'refresh' : 'session', creds.token, creds.tokenTtl);
  return payload;
}

/** The token to act on: the argument, else the cookie the mode uses, else the other cookie. */
function presentedToken(
  ctx: Context,
  arg: string | null | undefined,
  mode: AuthModeValue,
): { token: string; from: 'arg' | 'refresh' | 'session' } | null {
  if (arg) return { token: arg, from: 'arg' };
  const order = mode === 'SESSION' ? (['session', 'refresh'] as const) : (['refresh', 'session'] as const);
  for (const kind of order) {
    const token = ctx.cookies[kind];
    if (token) return { token, from: kind };
  }
  return null;
}

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthPayload,
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      otp: t.arg.string({ description: 'A TOTP code, for accounts with two-factor authentication.' }),
      mode: t.arg({ type: AuthMode, defaultValue: 'JSON' }),
    },
    resolve: async (_root, { email, password, otp, mode }, ctx) => {
      await enforceRateLimit(ctx, 'login', email);
      return deliver(ctx, await ctx.services.auth.login(email, password, otp ?? null, mode ?? 'JSON', ctx.client));
    },
  }),
  refresh: t.field({
    type: AuthPayload,
    description: 'Exchanges a refresh token (argument or cookie) for new credentials; each token works once.',
    args: {
      refreshToken: t.arg.string(),
      mode: t.arg({ type: AuthMode, defaultValue: 'JSON' }),
    },
    resolve: async (_root, args, ctx) => {
      const mode = args.mode ?? 'JSON';
      const presented = presentedToken(ctx, args.refreshToken, mode);
      await enforceRateLimit(ctx, 'refresh', presented && tokenSubject(presented.token));
      if (!presented) throw new AppError('INVALID_TOKEN', { message: 'No refresh token was sent.' });
      // An HttpOnly cookie must not turn into a token in the body: script injected into the app
      // could otherwise trade the cookie for a token it can read and carry off. A refresh cookie
      // stays a cookie (COOKIE or SESSION); a session cookie stays a session cookie.
      const allowed = presented.from === 'arg' || (presented.from === 'refresh' ? mode !== 'JSON' : mode === 'SESSION');
      if (!allowed) {
        throw new AppError('BAD_USER_INPUT', {
          message: `mode: a token sent as a ${presented.from} cookie cannot be refreshed in ${mode} mode.`,
          extensions: { field: 'mode' },
        });
      }
      try {
        const payload = deliver(ctx, await ctx.services.sessions.refresh(presented.token, mode, ctx.client));
        const deliveredTo = mode === 'JSON' ? null : mode === 'COOKIE' ? 'refresh' : 'session';
        if (presented.from !== 'arg' && presented.from !== deliveredTo) ctx.responseCookies.clear(presented.from);
        return payload;
      } catch (error) {
        if (presented.from !== 'arg') ctx.responseCookies.clear(presented.from);
        throw error;
      }
    },
  }),
  logout: t.boolean({
    description:
      'Ends the session of the given refresh token, of the cookie, or of the bearer token (with allSessions: every session of that user); clears the auth cookies. Access tokens of ended sessions are refused at once.',
    args: {
      refreshToken: t.arg.string(),
      mode: t.arg({ type: AuthMode, defaultValue: 'JSON' }),
      allSessions: t.arg.boolean({ defaultValue: false, description: 'Log out everywhere: end every session of the user.' }),
    },
    resolve: async (_root, args, ctx) => {
      const presented = presentedToken(ctx, args.refreshToken, args.mode ?? 'JSON');
      if (ctx.cookies.refresh) ctx.responseCookies.clear('refresh');
      if (ctx.cookies.session || args.mode === 'SESSION') ctx.responseCookies.clear('session');
      if (args.mode === 'COOKIE' && !ctx.cookies.refresh) ctx.responseCookies.clear('refresh');
      const allSessions = args.allSessions === true;
      const reason = allSessions ? 'logout-all' : 'logout';
      let ended: { userId: string | null; sessionId: string | null; count: number };
      if (presented) ended = await ctx.services.sessions.revokeByToken(presented.token, reason, { allSessions });
      else if (ctx.viewer && allSessions)
        ended = {
          userId: ctx.viewer.userId,
          sessionId: null,
          count: await ctx.services.sessions.revokeUserSessions(ctx.viewer.userId, reason),
        };
      else if (ctx.viewer) {
        const count = (await ctx.services.sessions.revokeSession(ctx.viewer.sessionId, reason)) ? 1 : 0;
        ended = { userId: ctx.viewer.userId, sessionId: ctx.viewer.sessionId, count };
      } else throw new AppError('INVALID_TOKEN', { message: 'No refresh token or session was sent.' });
      recordEvent(ctx, {
        type: allSessions ? 'logout.all' : 'logout',
        userId: ended.userId,
        sessionId: ended.sessionId,
        actorId: null,
        details: { sessionsEnded: ended.count },
      });
      return true;
    },
  }),
}));
