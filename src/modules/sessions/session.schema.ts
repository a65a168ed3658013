import { AppError } from '../../errors.ts';
import { builder } from '../../graphql/builder.ts';
import type { SessionSummary } from './session.service.ts';

const Session = builder.objectRef<SessionSummary>('Session').implement({
  description: 'A signed-in device or browser of the viewer: one login, until logout, revocation or expiry.',
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      description: 'Last refresh, or last session-cookie request (recorded at most once a minute).',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true, description: 'Client address at login (X-Forwarded-For only through TRUST_PROXY).' }),
    current: t.boolean({
      description: 'Whether this request was made with this session.',
      resolve: (session, _args, ctx) => session.id === ctx.viewer?.sessionId,
    }),
  }),
});

builder.prismaObjectField('User', 'sessions', (t) =>
  t.field({
    type: [Session],
    description: "The viewer's own live sessions, most recently used first. Only readable on the viewer.",
    authScopes: { authenticated: true },
    resolve: (user, _args, ctx) => {
      if (ctx.viewer?.userId !== user.id) throw new AppError('FORBIDDEN');
      return ctx.services.sessions.listLiveSessions(user.id);
    },
  }),
);

builder.mutationField('revokeSession', (t) =>
  t.boolean({
    description: "Ends one of the viewer's own sessions; its access tokens are refused at once. NOT_FOUND for any other id.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      await ctx.services.sessions.revokeOwnSession(viewer.userId, String(id));
      if (String(id) === viewer.sessionId) {
        if (ctx.cookies.session) ctx.responseCookies.clear('session');
        if (ctx.cookies.refresh) ctx.responseCookies.clear('refresh');
      }
      return true;
    },
  }),
);
