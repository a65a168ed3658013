import { AppError } from '../../errors.ts';
import { builder } from '../../graphql/builder.ts';
import { rowsWhere } from '../access/access.check.ts';
import { readable } from '../access/admin-fields.ts';
import { recordEvent } from '../audit/record.ts';
import type { SessionSummary } from './session.service.ts';

const Session = builder.objectRef<SessionSummary>('Session').implement({
  description: 'A signed-in device or browser: one login, until logout, revocation or expiry.',
  fields: (t) => ({
    id: t.exposeID('id', readable('sessions', 'id')),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('sessions', 'createdAt') }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      description: 'Last refresh, or last session-cookie request (recorded at most once a minute).',
      ...readable('sessions', 'lastUsedAt'),
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', ...readable('sessions', 'expiresAt') }),
    userAgent: t.exposeString('userAgent', { nullable: true, ...readable('sessions', 'userAgent') }),
    ip: t.exposeString('ip', {
      nullable: true,
      description: 'Client address at login (X-Forwarded-For only through TRUST_PROXY).',
      ...readable('sessions', 'ip'),
    }),
    current: t.boolean({
      description: 'Whether this request was made with this session.',
      ...readable('sessions', 'current'),
      resolve: (session, _args, ctx) => session.id === ctx.viewer?.sessionId,
    }),
  }),
});

builder.prismaObjectField('User', 'sessions', (t) =>
  t.field({
    type: [Session],
    description:
      "The user's live sessions the viewer may read (sessions:read; by default a user reads their own), most recently used first.",
    authScopes: { permission: { resource: 'sessions', action: 'read' } },
    resolve: (user, _args, ctx) => {
      const allowed = rowsWhere(ctx.access, 'sessions', 'read', { userId: ctx.viewer?.userId ?? null });
      return allowed ? ctx.services.sessions.listLiveSessions(user.id, allowed) : [];
    },
  }),
);

builder.mutationField('revokeSession', (t) =>
  t.boolean({
    description:
      'Ends a session the viewer may delete (sessions:delete; by default their own); its access tokens are refused at once. NOT_FOUND for any other id.',
    authScopes: { permission: { resource: 'sessions', action: 'delete' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const viewer = ctx.viewer;
      const allowed = rowsWhere(ctx.access, 'sessions', 'delete', { userId: viewer?.userId ?? null });
      if (!allowed) throw new AppError('NOT_FOUND');
      const ended = await ctx.services.sessions.revokeAllowedSession(allowed, String(id), {
        userId: viewer?.userId ?? null,
        admin: ctx.access.admin,
      });
      recordEvent(ctx, { type: 'session.revoked', userId: ended.userId, sessionId: String(id), details: { by: ended.by } });
      if (String(id) === viewer?.sessionId) {
        if (ctx.cookies.session) ctx.responseCookies.clear('session');
        if (ctx.cookies.refresh) ctx.responseCookies.clear('refresh');
      }
      return true;
    },
  }),
);
