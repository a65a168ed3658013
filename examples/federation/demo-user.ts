// The account the README's curl calls sign in with. Registered through Gatehouse's public API
// (the public policy allows it), so the example needs no administrator.
export const DEMO_USER = { email: 'ada@example.com', password: 'correct horse battery staple' } as const;

/**
 * Registers the demo user unless it exists. Registration limits count every attempt, EMAIL_TAKEN
 * ones included: after a few restarts within the hour the answer is RATE_LIMITED, and by then the
 * account exists.
 */
export async function ensureDemoUser(gatehouseGraphqlUrl: string): Promise<void> {
  const response = await fetch(gatehouseGraphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      variables: { input: DEMO_USER },
    }),
  });
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  const code = body.errors?.[0]?.extensions?.code;
  if (code && code !== 'EMAIL_TAKEN' && code !== 'RATE_LIMITED') throw new Error(`could not register ${DEMO_USER.email}: ${code}`);
}
