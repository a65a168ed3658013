import { builder } from '../../graphql/builder.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit } from '../rate-limits/rate-limit.guard.ts';
import type { TwoFactorSetup as TwoFactorSetupShape } from './two-factor.service.ts';

const TwoFactorSetup = builder.objectRef<TwoFactorSetupShape>('TwoFactorSetup').implement({
  description: 'A new TOTP secret, waiting to be confirmed with enableTwoFactor.',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Base32 secret, for typing into an authenticator app.' }),
    otpauthUrl: t.exposeString('otpauthUrl', { description: 'otpauth:// URI (issuer and account included).' }),
    qrCode: t.exposeString('qrCode', { description: 'The otpauth URI as an SVG QR code, in a data: URL.' }),
  }),
});

// The enrolment fields stay open to a viewer whose policy enforces 2FA before they have it.
const enrol = { authScopes: { enrolling: true } } as const;

builder.mutationFields((t) => ({
  generateTwoFactorSecret: t.field({
    ...enrol,
    type: TwoFactorSetup,
    description: 'Starts enrolment (needs the current password). Nothing is enabled until enableTwoFactor.',
    args: { password: t.arg.string({ required: true }) },
    resolve: async (_root, { password }, ctx) => {
      await enforceRateLimit(ctx, 'generateTwoFactorSecret', ctx.viewer!.userId);
      return ctx.services.twoFactor.generateSecret(ctx.viewer!.userId, password);
    },
  }),
  enableTwoFactor: t.stringList({
    ...enrol,
    description: 'Confirms the pending secret with a code; returns 10 single-use recovery codes, shown once. Ends the other sessions.',
    args: { otp: t.arg.string({ required: true }) },
    resolve: async (_root, { otp }, ctx) => {
      await enforceRateLimit(ctx, 'enableTwoFactor', ctx.viewer!.userId);
      const codes = await ctx.services.twoFactor.enable(ctx.viewer!.userId, ctx.viewer!.sessionId, otp);
      recordEvent(ctx, { type: 'two_factor.enabled', userId: ctx.viewer!.userId, sessionId: ctx.viewer!.sessionId });
      return codes;
    },
  }),
  disableTwoFactor: t.boolean({
    authScopes: { authenticated: true },
    description: 'Turns 2FA off with a TOTP or a recovery code. Ends the other sessions.',
    args: { otp: t.arg.string({ required: true }) },
    resolve: async (_root, { otp }, ctx) => {
      await enforceRateLimit(ctx, 'disableTwoFactor', ctx.viewer!.userId);
      await ctx.services.twoFactor.disable(ctx.viewer!.userId, ctx.viewer!.sessionId, otp, ctx.client);
      recordEvent(ctx, { type: 'two_factor.disabled', userId: ctx.viewer!.userId, sessionId: ctx.viewer!.sessionId });
      return true;
    },
  }),
  regenerateRecoveryCodes: t.stringList({
    authScopes: { authenticated: true },
    description: 'Replaces every recovery code (with a TOTP or a recovery code); the new ones are shown once.',
    args: { otp: t.arg.string({ required: true }) },
    resolve: async (_root, { otp }, ctx) => {
      await enforceRateLimit(ctx, 'regenerateRecoveryCodes', ctx.viewer!.userId);
      return ctx.services.twoFactor.regenerateRecoveryCodes(ctx.viewer!.userId, otp, ctx.client);
    },
  }),
}));
