import { builder } from '../../graphql/builder.ts';
import { JSONScalar } from '../../graphql/scalars.ts';
import { actorOf, readable } from '../access/admin-fields.ts';
import { PageInfo } from '../users/users.schema.ts';
import { DEFAULT_PAGE } from './audit.service.ts';

const AuthEvent = builder.prismaObject('AuthEvent', {
  description:
    'One entry of the audit log: a security-relevant event. Each field shows only where an auth_events:read permission covering the event names it.',
  fields: (t) => ({
    id: t.exposeID('id', readable('auth_events', 'id')),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('auth_events', 'createdAt') }),
    type: t.exposeString('type', {
      description: 'What happened, e.g. `login.failed` (the list is in the README, Operations).',
      ...readable('auth_events', 'type'),
    }),
    outcome: t.exposeString('outcome', { description: '`success` or `failure`.', ...readable('auth_events', 'outcome') }),
    userId: t.exposeID('userId', {
      nullable: true,
      description: 'The account concerned, when known.',
      ...readable('auth_events', 'userId'),
    }),
    actorId: t.exposeID('actorId', {
      nullable: true,
      description: 'Who acted, when not the user themself (an administrator).',
      ...readable('auth_events', 'actorId'),
    }),
    sessionId: t.exposeID('sessionId', { nullable: true, ...readable('auth_events', 'sessionId') }),
    subjectHash: t.exposeString('subjectHash', {
      nullable: true,
      description: 'A keyed hash of the email address typed (login, reset): equal for attempts on one address; never the address itself.',
      ...readable('auth_events', 'subjectHash'),
    }),
    ip: t.exposeString('ip', { nullable: true, ...readable('auth_events', 'ip') }),
    userAgent: t.exposeString('userAgent', { nullable: true, ...readable('auth_events', 'userAgent') }),
    details: t.field({
      type: JSONScalar,
      nullable: true,
      description: 'A small object of details (a failure reason, a changed status); never a secret.',
      ...readable('auth_events', 'details'),
      resolve: (event) => event.details ?? null,
    }),
  }),
});

interface AuthEventEdgeShape {
  node: (typeof AuthEvent)['$inferType'];
  cursor: string;
}

const AuthEventEdge = builder.objectRef<AuthEventEdgeShape>('AuthEventEdge').implement({
  fields: (t) => ({
    node: t.field({ type: AuthEvent, resolve: (edge) => edge.node }),
    cursor: t.exposeString('cursor'),
  }),
});

const AuthEventConnection = builder
  .objectRef<{ edges: AuthEventEdgeShape[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('AuthEventConnection')
  .implement({
    fields: (t) => ({
      edges: t.field({ type: [AuthEventEdge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
    }),
  });

builder.queryField('authEvents', (t) =>
  t.field({
    type: AuthEventConnection,
    description:
      'The audit log, newest first, as far as the viewer’s auth_events:read permissions reach (administrators: all of it). Filtering by a field needs permission to read it.',
    authScopes: { permission: { resource: 'auth_events', action: 'read' } },
    args: {
      first: t.arg.int({ defaultValue: DEFAULT_PAGE, description: 'Page size, 1 to 100.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      userId: t.arg.id(),
      type: t.arg.string({ description: 'One event type, e.g. `login.failed`.' }),
      since: t.arg({ type: 'DateTime', description: 'Events at or after this instant.' }),
      until: t.arg({ type: 'DateTime', description: 'Events before this instant.' }),
    },
    resolve: async (_root, args, ctx) => {
      const { edges, hasNextPage } = await ctx.services.audit.listEvents(actorOf(ctx), { ...args, userId: args.userId?.toString() });
      return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  }),
);

interface SecurityEventShape {
  id: string;
  createdAt: Date;
  type: string;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: unknown;
}

const SecurityEvent = builder.objectRef<SecurityEventShape>('SecurityEvent').implement({
  description: 'A security event of the signed-in user’s own account, as an account-security page shows it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    type: t.exposeString('type', { description: 'e.g. `login.succeeded`, `password.changed`, `two_factor.enabled`.' }),
    outcome: t.exposeString('outcome', { description: '`success` or `failure`.' }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    details: t.field({ type: JSONScalar, nullable: true, resolve: (event) => event.details ?? null }),
  }),
});

builder.prismaObjectField('User', 'securityEvents', (t) =>
  t.field({
    type: [SecurityEvent],
    nullable: true,
    description:
      'The signed-in user’s own recent security events (sign-ins, failed attempts, password and 2FA changes), newest first; null on any other account (administrators read `authEvents`).',
    args: { first: t.arg.int({ defaultValue: DEFAULT_PAGE, description: '1 to 50.' }) },
    resolve: (user, { first }, ctx) => (ctx.viewer?.userId === user.id ? ctx.services.audit.listOwn(user.id, first) : null),
  }),
);
