import type { AuthProviderConfig } from '../../config/auth-providers.ts';
import { builder } from '../../graphql/builder.ts';
import { AuthMode, AuthPayload, deliver } from '../auth/auth.schema.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';
import { User } from '../users/users.schema.ts';

const AuthProviderDriver = builder.enumType('AuthProviderDriver', {
  values: { OPENID: { value: 'openid' }, OAUTH2: { value: 'oauth2' } } as const,
});

const AuthProvider = builder.objectRef<AuthProviderConfig>('AuthProvider').implement({
  description: 'A configured single sign-on provider: enough for a login page to render its button.',
  fields: (t) => ({
    name: t.exposeString('name'),
    label: t.exposeString('label'),
    driver: t.field({ type: AuthProviderDriver, resolve: (p) => p.driver }),
    loginUrl: t.string({
      description: 'Where the button goes; add `redirect` (an allow-listed URL) and `mode` (JSON, COOKIE or SESSION).',
      resolve: (p, _args, ctx) => ctx.services.sso.loginUrl(p.name),
    }),
  }),
});

interface IdentityShape {
  provider: string;
  email: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const Identity = builder.objectRef<IdentityShape>('Identity').implement({
  description: 'An external account (single sign-on) linked to this account.',
  fields: (t) => ({
    provider: t.exposeString('provider'),
    email: t.exposeString('email', { nullable: true, description: 'The address the provider gave when it was linked.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectField(User, 'identities', (t) =>
  t.field({
    type: [Identity],
    nullable: true,
    description: "The account's linked sign-in providers; shown to the account's owner only (null on anyone else's).",
    resolve: (user, _args, ctx) => (ctx.viewer?.userId === user.id ? ctx.services.sso.listIdentities(user.id) : null),
  }),
);

builder.queryField('authProviders', (t) =>
  t.field({
    type: [AuthProvider],
    description: 'The single sign-on providers, in AUTH_PROVIDERS order. Public.',
    resolve: (_root, _args, ctx) => [...ctx.services.sso.providers()],
  }),
);

builder.mutationFields((t) => ({
  exchangeLoginCode: t.field({
    type: AuthPayload,
    description:
      'Trades the one-time code a single sign-on put on the redirect (60 s, once) for credentials. With `otp_required=true` on the redirect, send the account’s OTP too.',
    args: {
      code: t.arg.string({ required: true }),
      mode: t.arg({ type: AuthMode, description: 'Default: the mode the sign-in was started with.' }),
      otp: t.arg.string({ description: 'A TOTP or recovery code, when the redirect said otp_required.' }),
    },
    resolve: async (_root, { code, mode, otp }, ctx) => {
      await enforceRateLimit(ctx, 'exchangeLoginCode', tokenSubject(code));
      return deliver(ctx, await ctx.services.sso.exchangeLoginCode(code, mode ?? null, otp ?? null, ctx.client));
    },
  }),
  linkIdentity: t.string({
    authScopes: { authenticated: true },
    description:
      'A URL to send this browser to at once (it works once, for 60 s): after the provider’s sign-in it returns to `redirect` with `link_code=<code>&provider=<name>` or `error=<code>`. Nothing is linked until confirmLinkIdentity presents that code from this same session.',
    args: {
      provider: t.arg.string({ required: true }),
      redirect: t.arg.string({ description: 'An allow-listed URL of the provider; default its first.' }),
    },
    resolve: (_root, { provider, redirect }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      return ctx.services.sso.createLinkUrl(viewer.userId, viewer.sessionId, provider, redirect ?? null);
    },
  }),
  confirmLinkIdentity: t.boolean({
    authScopes: { authenticated: true },
    description:
      'Links the identity of a linkIdentity flow: the `link_code` its redirect carried (60 s, once), presented by the same user AND session that called linkIdentity; otherwise SSO_STATE_INVALID, the code is spent and nothing is linked.',
    args: { code: t.arg.string({ required: true }) },
    resolve: async (_root, { code }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      await enforceRateLimit(ctx, 'exchangeLoginCode', tokenSubject(code));
      await ctx.services.sso.confirmLinkIdentity(viewer, code, ctx.client.ip);
      return true;
    },
  }),
  unlinkIdentity: t.boolean({
    authScopes: { authenticated: true },
    description: 'Removes the linked identity of a provider; LAST_LOGIN_METHOD when the account would have no password and no other.',
    args: { provider: t.arg.string({ required: true }) },
    resolve: async (_root, { provider }, ctx) => {
      const viewer = ctx.viewer as NonNullable<typeof ctx.viewer>;
      await ctx.services.sso.unlinkIdentity(viewer.userId, provider, ctx.client.ip);
      return true;
    },
  }),
}));
