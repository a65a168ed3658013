import { builder } from '../../graphql/builder.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';

builder.mutationFields((t) => ({
  requestEmailChange: t.boolean({
    description:
      'Asks to change the signed-in user’s address: checks the password, mails a confirmation link to the new address and a notice to the current one. Nothing changes until confirmEmailChange.',
    authScopes: { authenticated: true },
    args: {
      newEmail: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      verificationUrl: t.arg.string({
        description:
          'Page the link opens; must equal an entry of USER_REGISTER_URL_ALLOW_LIST exactly, query string included (default: Gatehouse’s /confirm-email page).',
      }),
    },
    resolve: async (_root, { newEmail, password, verificationUrl }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      await enforceRateLimit(ctx, 'requestEmailChange', viewer.userId);
      await ctx.services.emailChange.requestEmailChange({
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        newEmail,
        password,
        verificationUrl,
      });
      recordEvent(ctx, { type: 'email.change_requested', userId: viewer.userId, sessionId: viewer.sessionId });
      return true;
    },
  }),
  confirmEmailChange: t.boolean({
    description:
      'Makes the new address the account’s, with the token from the confirmation mail (once). Reset and verification links mailed before stop working; every session but the one that asked for the change ends. EMAIL_TAKEN when another account has the address by now.',
    args: { token: t.arg.string({ required: true }) },
    resolve: async (_root, { token }, ctx) => {
      await enforceRateLimit(ctx, 'confirmEmailChange', tokenSubject(token));
      const userId = await ctx.services.emailChange.confirmEmailChange(token);
      recordEvent(ctx, { type: 'email.changed', userId });
      return true;
    },
  }),
}));
