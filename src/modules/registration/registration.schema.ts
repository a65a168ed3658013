import { builder } from '../../graphql/builder.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';

const VERIFICATION_URL =
  'Page the link opens; must equal an entry of USER_REGISTER_URL_ALLOW_LIST exactly, query string included (default: Gatehouse’s /verify-email page).';

builder.mutationFields((t) => ({
  register: t.boolean({
    description:
      'Self-registration. Always true (rate limit aside), for a new and for a taken address alike: a new address gets an account in status UNVERIFIED and a verification mail (ACTIVE at once when REGISTRATION_VERIFY_EMAIL=false); the owner of a taken address gets a notice, and nothing is created.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      verificationUrl: t.arg.string({ description: VERIFICATION_URL }),
    },
    resolve: async (_root, { email, password, verificationUrl }, ctx) => {
      await enforceRateLimit(ctx, 'register', email);
      await ctx.services.registration.register({ email, password, verificationUrl, ip: ctx.client.ip });
      // The address is kept only as its keyed hash: the event says an attempt was made, not whether it was new.
      recordEvent(ctx, { type: 'user.registered', email });
      return true;
    },
  }),
  verifyEmail: t.boolean({
    description:
      'Confirms a registered address with the token from the verification mail: the account becomes ACTIVE. Each token works once.',
    args: { token: t.arg.string({ required: true }) },
    resolve: async (_root, { token }, ctx) => {
      await enforceRateLimit(ctx, 'verifyEmail', tokenSubject(token));
      const userId = await ctx.services.registration.verifyEmail(token);
      recordEvent(ctx, { type: 'user.email_verified', userId });
      return true;
    },
  }),
  resendVerificationEmail: t.boolean({
    description: 'Mails a new verification link (the previous one stops working) when the address has an unverified account. Always true.',
    args: {
      email: t.arg.string({ required: true }),
      verificationUrl: t.arg.string({ description: VERIFICATION_URL }),
    },
    resolve: async (_root, { email, verificationUrl }, ctx) => {
      await enforceRateLimit(ctx, 'resendVerificationEmail', email);
      ctx.services.registration.resendVerificationEmail(email, verificationUrl);
      return true;
    },
  }),
}));
