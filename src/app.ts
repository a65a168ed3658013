import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Config } from './config/config.ts';
import { useRequestCacheRelease } from './graphql/request-cache-release.ts';
import { schema } from './graphql/schema.ts';
import { buildContext } from './http/context.ts';
import { corsOptions } from './http/cors.ts';
import { useCsrfPrevention } from './http/csrf.ts';
import { type GraphiQL, prepareGraphiQL } from './http/graphiql.ts';
import { graphiqlAssetRoutes } from './http/graphiql-assets.ts';
import { useGraphQLLimits } from './http/graphql-limits.ts';
import { responseCookiesByRequest, securityHeaders, useGraphQLResponseHeaders } from './http/headers.ts';
import { healthRoutes } from './http/health.ts';
import { lifecyclePageRoutes } from './http/lifecycle-pages.ts';
import { createMaskError } from './http/mask-error.ts';
import { metricsRoutes } from './http/metrics-routes.ts';
import { useOperationMetrics } from './http/operation-metrics.ts';
import { usePersistedQueries } from './http/persisted-operations.ts';
import { useRequestBodyLimit } from './http/request-body-limit.ts';
import { resetPageRoutes } from './http/reset-page.ts';
import { createRouter, type FixedRoute, type Router } from './http/router.ts';
import { ssoRoutes } from './http/sso-routes.ts';
import { useUnavailableStatus } from './http/unavailable-status.ts';
import { wellKnownRoutes } from './http/well-known.ts';
import type { Logger } from './log/logger.ts';
import { createYogaLogger } from './log/yoga-logger.ts';
import type { Services } from './services.ts';

export const GRAPHQL_PATH = '/graphql';

export interface AppDependencies {
  config: Config;
  services: Services;
  logger: Logger;
  /** True once shutdown has begun (readiness fails, responses close their connections). */
  draining?: () => boolean;
}

/**
 * The HTTP application: a router in front (exact pathnames, security headers on every response)
 * and the GraphQL server behind it, which only ever sees requests for GRAPHQL_PATH.
 */
export function createApp({ config, services, logger, draining = () => false }: AppDependencies): Router {
  const graphiql = config.graphiql ? prepareGraphiQL({ title: 'Gatehouse' }) : null;
  const yoga = createGraphQLServer({ config, services, logger }, graphiql);
  const routes = new Map<string, FixedRoute>([
    ...healthRoutes({
      draining,
      database: () => services.health.databaseReachable(),
      redis: services.health.redisReachable,
    }),
    ...wellKnownRoutes(config, () => services.signingKeys.jwks()),
    ...resetPageRoutes(),
    ...lifecyclePageRoutes(),
    ...ssoRoutes(config, services, logger),
    ...(graphiql ? graphiqlAssetRoutes(graphiql) : []),
    ...metricsRoutes(services.metrics, config.metrics.token),
  ]);
  return createRouter({
    graphqlPath: GRAPHQL_PATH,
    graphql: (req, res) => yoga.handleNodeRequestAndResponse(req, res, { req, res }),
    routes,
    security: securityHeaders({ hsts: config.hsts }),
    logger,
    draining,
    metrics: services.metrics,
  });
}

function createGraphQLServer({ config, services, logger }: AppDependencies, graphiql: GraphiQL | null) {
  return createYoga<{ req?: IncomingMessage; res?: ServerResponse }>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // Yoga answers any URL ending in this text as a health check, ahead of every plugin. The
    // router serves /health itself; a space never appears in a request URL, so this never matches.
    healthCheckEndpoint: ' (served by the router)',
    context: async ({ request, req }) => {
      const context = await buildContext(request, req, services, config);
      responseCookiesByRequest.set(request, context.responseCookies);
      return context;
    },
    maskedErrors: { maskError: createMaskError(logger) },
    graphiql: graphiql ? { title: 'Gatehouse' } : false,
    // Served from this server's own files (the router's /graphiql/ routes), under the CSP that
    // useGraphQLResponseHeaders sets.
    ...(graphiql ? { renderGraphiQL: () => graphiql.html } : {}),
    landingPage: false,
    // File uploads are not part of this API, and multipart bodies would dodge CSRF checks.
    multipart: false,
    // MAX_REQUEST_BODY_BYTES is enforced by useRequestBodyLimit (the last plugin) instead of Yoga's
    // own check, which streams every body through a counting transform (see request-body-limit.ts).
    maxRequestBodySize: false,
    // Cross-origin browser access only for the CORS_ORIGINS allow-list (off when it is empty).
    cors: corsOptions(config.cors),
    // One operation per request: an array of fifty logins must not be fifty attempts in one.
    batching: false,
    logging: createYogaLogger(logger),
    plugins: [
      useCsrfPrevention(),
      ...usePersistedQueries(config.persistedOperations),
      useGraphQLResponseHeaders({ cors: config.cors.origins.length > 0, graphiqlCsp: graphiql?.csp ?? null }),
      ...useGraphQLLimits(config.graphqlLimits),
      useUnavailableStatus(),
      useOperationMetrics(services.metrics),
      useRequestBodyLimit(config.maxRequestBodyBytes),
      useRequestCacheRelease(),
    ],
  });
}
