import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { createGatehouseApollo } from './gatehouse-apollo.ts';

export interface ExampleOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  url: string;
  email: string;
  password: string;
  fetch?: typeof fetch;
}

/**
 * The whole flow: register, log in, read `viewer`, let the access token expire and read it again
 * (the error link refreshes on TOKEN_EXPIRED), log out. Run Gatehouse with a short
 * ACCESS_TOKEN_TTL (e.g. 5s) to watch the refresh without waiting long.
 */
export async function runApolloExample({ url, email, password, fetch }: ExampleOptions) {
  const gatehouse = createGatehouseApollo({ url, fetch });
  await gatehouse.register(email, password);
  const expiresIn = await gatehouse.login(email, password);
  const viewer = await gatehouse.viewer();

  await sleep((expiresIn + 1) * 1000);
  const viewerAfterExpiry = await gatehouse.viewer();

  await gatehouse.logout();
  return {
    email: viewer?.email,
    emailAfterExpiry: viewerAfterExpiry?.email,
    refreshes: gatehouse.refreshes,
    signedInAfterLogout: gatehouse.signedIn,
  };
}

// npx tsx examples/apollo-client/main.ts http://127.0.0.1:4000/graphql
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.argv[2] ?? 'http://127.0.0.1:4000/graphql';
  const result = await runApolloExample({ url, email: `apollo-${Date.now()}@example.com`, password: 'correct horse battery staple' });
  console.log(result);
}
