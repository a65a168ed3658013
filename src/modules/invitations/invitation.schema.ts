import { builder } from '../../graphql/builder.ts';
import { hiddenInSupergraph } from '../../graphql/federation.ts';
import { recordEvent } from '../audit/record.ts';
import { enforceRateLimit, tokenSubject } from '../rate-limits/rate-limit.guard.ts';

builder.mutationFields((t) => ({
  inviteUser: t.boolean({
    description:
      'Creates a user in status INVITED with the given role and policies (what createUser would let you grant) and mails them a link to choose a password; for a user still INVITED, mails a new link (the old one stops working). Needs a signed-in user with users:create.',
    authScopes: { $all: { authenticated: true, permission: { resource: 'users', action: 'create' } } },
    args: {
      email: t.arg.string({ required: true }),
      roleId: t.arg.id({ ...hiddenInSupergraph }),
      policyIds: t.arg.idList({ description: 'Policy ids granted directly to the user.', ...hiddenInSupergraph }),
      inviteUrl: t.arg.string({
        description:
          'Page the link opens; must equal an entry of USER_INVITE_URL_ALLOW_LIST exactly, query string included (default: Gatehouse’s /accept-invite page).',
      }),
    },
    resolve: async (_root, { email, roleId, policyIds, inviteUrl }, ctx) => {
      await enforceRateLimit(ctx, 'inviteUser', email);
      await ctx.services.invitations.inviteUser(ctx.access, {
        email,
        roleId: roleId?.toString(),
        policyIds: policyIds?.map(String),
        inviteUrl,
      });
      recordEvent(ctx, {
        type: 'user.invited',
        email,
        actorId: ctx.viewer?.userId ?? null,
        details: { roleId: roleId?.toString() ?? null },
      });
      return true;
    },
  }),
  acceptInvite: t.boolean({
    description:
      'Sets the password of an invited user with the token from the invitation mail; the account becomes ACTIVE. Each token works once.',
    args: {
      token: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { token, password }, ctx) => {
      await enforceRateLimit(ctx, 'acceptInvite', tokenSubject(token));
      const userId = await ctx.services.invitations.acceptInvite(token, password);
      recordEvent(ctx, { type: 'user.invite_accepted', userId });
      return true;
    },
  }),
}));
