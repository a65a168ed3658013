import { builder } from '../../graphql/builder.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';

builder.mutationFields((t) => ({
  requestPasswordReset: t.boolean({
    description: 'Mails a reset link when the email has an active account. Always true, so it reveals nothing.',
    args: {
      email: t.arg.string({ required: true }),
      resetUrl: t.arg.string({
        description: 'Page the link opens; must equal an entry of PASSWORD_RESET_URL_ALLOW_LIST exactly, query string included.',
      }),
    },
    resolve: async (_root, { email, resetUrl }, ctx) => {
      await enforceRateLimit(ctx, 'requestPasswordReset', email);
      ctx.services.passwordReset.requestReset(email, resetUrl, ctx.client);
      return true;
    },
  }),
  resetPassword: t.boolean({
    description: 'Sets a new password with a reset token and ends every session of the account.',
    args: {
      token: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { token, password }, ctx) => {
      await enforceRateLimit(ctx, 'resetPassword', tokenSubject(token));
      await ctx.services.passwordReset.resetPassword(token, password, ctx.client);
      return true;
    },
  }),
}));
