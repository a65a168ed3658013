import { builder } from '../../graphql/builder.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit } from '../rate-limits/rate-limit.guard.ts';

builder.mutationField('changePassword', (t) =>
  t.boolean({
    description:
      'Sets a new password after checking the current one. Every other session of the account ends at once; this one stays, and outstanding reset links stop working.',
    authScopes: { authenticated: true },
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: async (_root, { currentPassword, newPassword }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      await enforceRateLimit(ctx, 'changePassword', viewer.userId);
      await ctx.services.passwordChange.changePassword(viewer.userId, viewer.sessionId, currentPassword, newPassword);
      recordEvent(ctx, { type: 'password.changed', userId: viewer.userId, sessionId: viewer.sessionId });
      return true;
    },
  }),
);
