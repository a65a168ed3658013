import type { YogaServerOptions } from 'graphql-yoga';
import type { Config } from '../config/config.ts';

type CorsOption = YogaServerOptions<object, object>['cors'];

/**
 * Cross-origin access to the GraphQL endpoint for the CORS_ORIGINS allow-list only. Yoga's
 * default would echo any Origin with credentials, and its list mode answers unlisted origins with
 * `Access-Control-Allow-Origin: null` plus credentials (which sandboxed frames match); so the
 * decision is made here per request: a listed origin gets itself back with credentials, anything
 * else gets no CORS headers at all. Only the GraphQL endpoint gets here: the router's fixed routes
 * keep their own policy (the JWKS is public).
 */
export function corsOptions(cors: Config['cors']): CorsOption {
  if (cors.origins.length === 0) return false;
  const allowed = new Set(cors.origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowed.has(origin)) return false;
    return {
      origin,
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: cors.allowHeaders,
      maxAge: cors.maxAgeSeconds,
    };
  };
}
