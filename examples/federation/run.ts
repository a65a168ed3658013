// npm run example:federation — Gatehouse, the posts subgraph and a gateway composing both, on
// 127.0.0.1: Gatehouse :4000, posts :4001, gateway :4100 (README, Federation, has curl calls).
// Gatehouse reads its usual environment (.env included); this runner only sets what the example
// needs: its own data directory, and the gateway as the one proxy whose X-Forwarded-For counts.
import 'dotenv/config';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startServer } from '../../src/server.ts';
import { DEMO_USER, ensureDemoUser } from './demo-user.ts';
import { startGateway } from './gateway.ts';
import { startPostsSubgraph } from './posts-subgraph.ts';

const HOST = '127.0.0.1';
const config = loadConfig({
  DATA_DIR: 'data/federation-example',
  TRUST_PROXY: HOST,
  ...process.env,
  HOST,
  PORT: process.env.PORT ?? '4000',
});
const logger = createLogger(config.logLevel);

const gatehouse = await startServer(config, logger);
await ensureDemoUser(`${gatehouse.url}/graphql`);
const posts = await startPostsSubgraph({
  jwksUrl: `${gatehouse.url}/.well-known/jwks.json`,
  issuer: config.tokens.issuer,
  audience: config.tokens.audience,
  host: HOST,
  port: 4001,
});
const gateway = await startGateway({
  subgraphs: [
    { name: 'gatehouse', url: `${gatehouse.url}/graphql` },
    { name: 'posts', url: posts.url },
  ],
  gatehouse: 'gatehouse',
  host: HOST,
  port: 4100,
});

process.stdout.write(
  [
    '',
    `Gatehouse  ${gatehouse.url}/graphql`,
    `posts      ${posts.url}`,
    `gateway    ${gateway.url}   <- send requests here`,
    `demo user  ${DEMO_USER.email} / ${DEMO_USER.password}`,
    '',
    '',
  ].join('\n'),
);

const stop = async () => {
  await gateway.close();
  await posts.close();
  await gatehouse.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
