import type { IncomingMessage } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Config } from './config/config.ts';
import { schema } from './graphql/schema.ts';
import { buildContext } from './http/context.ts';
import { corsOptions } from './http/cors.ts';
import { useCsrfPrevention } from './http/csrf.ts';
import { prepareGraphiQL } from './http/graphiql.ts';
import { useGraphiQLAssets } from './http/graphiql-assets.ts';
import { useGraphQLLimits } from './http/graphql-limits.ts';
import { responseCookiesByRequest, useResponseHeaders } from './http/headers.ts';
import { useKnownPathsOnly } from './http/known-paths.ts';
import { createMaskError } from './http/mask-error.ts';
import { useResetPasswordPage } from './http/reset-page.ts';
import { useWellKnown } from './http/well-known.ts';
import type { Logger } from './log/logger.ts';
import type { Services } from './services.ts';

export const GRAPHQL_PATH = '/graphql';

export interface AppDependencies {
  config: Config;
  services: Services;
  logger: Logger;
}

export function createApp({ config, services, logger }: AppDependencies) {
  const graphiql = config.graphiql ? prepareGraphiQL({ title: 'Gatehouse' }) : null;
  return createYoga<{ req?: IncomingMessage }>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: async ({ request, req }) => {
      const context = await buildContext(request, req, services, config);
      responseCookiesByRequest.set(request, context.responseCookies);
      return context;
    },
    maskedErrors: { maskError: createMaskError(logger) },
    // Yoga would render GraphiQL on any path ending in the endpoint (`/x?a=/graphql`): only on it.
    graphiql: graphiql ? (request) => new URL(request.url).pathname === GRAPHQL_PATH && { title: 'Gatehouse' } : false,
    // Served from this server's own files, under the CSP that useResponseHeaders sets.
    ...(graphiql ? { renderGraphiQL: () => graphiql.html } : {}),
    landingPage: false,
    // File uploads are not part of this API, and multipart bodies would dodge CSRF checks.
    multipart: false,
    maxRequestBodySize: config.maxRequestBodyBytes,
    // Cross-origin browser access only for the CORS_ORIGINS allow-list (off when it is empty).
    cors: corsOptions(config.cors, GRAPHQL_PATH),
    // One operation per request: an array of fifty logins must not be fifty attempts in one.
    batching: false,
    // Yoga reports every GraphQL error, expected ones included, at error level; the unexpected
    // ones are logged by maskError, so Yoga's own reports go to debug.
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.debug(args.map(String).join(' ')),
    },
    plugins: [
      ...(graphiql ? [useGraphiQLAssets(graphiql.assets)] : []),
      useKnownPathsOnly([GRAPHQL_PATH, '/health', ...(graphiql?.assets.keys() ?? [])], ['/.well-known/', '/reset-password']),
      useWellKnown(config, () => services.signingKeys.jwks()),
      useCsrfPrevention(GRAPHQL_PATH),
      useResponseHeaders(GRAPHQL_PATH, { hsts: config.hsts, cors: config.cors.origins.length > 0, graphiqlCsp: graphiql?.csp ?? null }),
      ...useGraphQLLimits(config.graphqlLimits),
      useResetPasswordPage(),
    ],
  });
}
