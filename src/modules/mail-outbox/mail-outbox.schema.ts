import { AppError, badInput } from '../../errors.ts';
import { builder } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import type { Context } from '../../http/context.ts';
import type { OutboxMailSummary } from '../../mail/outbox.service.ts';
import { rowsWhere } from '../access/access.check.ts';
import { parseId } from '../access/access-admin.validation.ts';
import { readable, viewerVars } from '../access/admin-fields.ts';

const MAX_MAILS = 200;

const MailOutboxStatus = builder.enumType('MailOutboxStatus', {
  ...hiddenInSupergraph,
  description: 'PENDING: waiting for its first or next attempt; SENT: accepted by the mail server; FAILED: given up.',
  values: ['PENDING', 'SENT', 'FAILED'] as const,
});

const OutboxMail = builder.objectRef<OutboxMailSummary>('OutboxMail').implement({
  ...hiddenInSupergraph,
  description: 'A mail in the outbox, without its recipient, subject or body (those are stored encrypted).',
  fields: (t) => ({
    id: t.exposeID('id', readable('mail_outbox', 'id')),
    kind: t.exposeString('kind', { description: 'What the mail is about, e.g. password-reset.', ...readable('mail_outbox', 'kind') }),
    status: t.expose('status', { type: MailOutboxStatus, ...readable('mail_outbox', 'status') }),
    attempts: t.exposeInt('attempts', { description: 'Send attempts started.', ...readable('mail_outbox', 'attempts') }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: "The last failure (the mail server's codes and message, addresses and links removed).",
      ...readable('mail_outbox', 'lastError'),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...readable('mail_outbox', 'createdAt') }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      description: 'When a pending mail is tried next.',
      ...readable('mail_outbox', 'nextAttemptAt'),
    }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true, ...readable('mail_outbox', 'sentAt') }),
    failedAt: t.expose('failedAt', { type: 'DateTime', nullable: true, ...readable('mail_outbox', 'failedAt') }),
  }),
});

/** The rows of the outbox the viewer may read (mail_outbox:read with its row filter). */
const readableMails = (ctx: Context) => rowsWhere(ctx.access, 'mail_outbox', 'read', viewerVars(ctx));

const MailOutboxState = builder.objectRef<Record<string, never>>('MailOutboxState').implement({
  ...hiddenInSupergraph,
  description: "The state of this deployment's mail outbox (EMAIL_OUTBOX_SCOPE), over the rows the viewer may read.",
  fields: (t) => ({
    pending: t.int({ resolve: async (_s, _a, ctx) => (await counts(ctx)).pending }),
    sent: t.int({
      description: 'Sent and not yet removed by the retention sweep.',
      resolve: async (_s, _a, ctx) => (await counts(ctx)).sent,
    }),
    failed: t.int({ resolve: async (_s, _a, ctx) => (await counts(ctx)).failed }),
    mails: t.field({
      type: [OutboxMail],
      description: `The newest mails of a status (FAILED unless given), at most ${MAX_MAILS}.`,
      args: {
        status: t.arg({ type: MailOutboxStatus, defaultValue: 'FAILED' }),
        first: t.arg.int({ defaultValue: 50 }),
      },
      resolve: (_state, { status, first }, ctx) => {
        const limit = first ?? 50;
        if (limit < 1 || limit > MAX_MAILS) throw badInput('first', `must be between 1 and ${MAX_MAILS}`);
        const allowed = readableMails(ctx);
        return allowed ? ctx.services.mailOutbox.listMails(status ?? 'FAILED', limit, allowed) : [];
      },
    }),
  }),
});

/** One count query per request, shared by the three count fields. */
const countsByRequest = new WeakMap<object, ReturnType<Context['services']['mailOutbox']['counts']>>();
function counts(ctx: Context) {
  let pending = countsByRequest.get(ctx);
  if (!pending) {
    const allowed = readableMails(ctx);
    pending = allowed ? ctx.services.mailOutbox.counts(allowed) : Promise.resolve({ pending: 0, sent: 0, failed: 0 });
    countsByRequest.set(ctx, pending);
  }
  return pending;
}

builder.queryField('mailOutbox', (t) =>
  t.field({
    ...hiddenInSupergraph,
    type: MailOutboxState,
    description: 'Counts by status and the mails that failed (mail_outbox:read; administrators by default).',
    authScopes: { permission: { resource: 'mail_outbox', action: 'read' } },
    resolve: () => ({}),
  }),
);

builder.mutationField('retryMail', (t) =>
  t.boolean({
    ...hiddenInSupergraph,
    description:
      'Puts a FAILED mail back in the queue with a fresh set of attempts (mail_outbox:update; administrators by default). NOT_FOUND for any other id.',
    authScopes: { permission: { resource: 'mail_outbox', action: 'update' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const mailId = parseId(String(id));
      const allowed = rowsWhere(ctx.access, 'mail_outbox', 'update', viewerVars(ctx));
      if (!mailId || !allowed || !(await ctx.services.mailOutbox.retry(mailId, allowed))) throw new AppError('NOT_FOUND');
      return true;
    },
  }),
);
