import type { Config } from '../config/config.ts';
import type { JsonWebKeySet } from '../modules/signing-keys/signing-key.service.ts';
import type { FixedRoute } from './router.ts';

export const JWKS_PATH = '/.well-known/jwks.json';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/**
 * Verifiers may cache the key set this long: never longer than a new key is published before it
 * signs (SIGNING_KEY_ACTIVATION_DELAY), and old keys stay published far longer than that.
 */
const MAX_AGE_SECONDS = 300;

/**
 * The public keys (JWKS) and an OpenID-style discovery document, so gateways can verify access
 * tokens without a shared secret. Gatehouse is not an OpenID provider (no authorization endpoint,
 * no ID tokens): the document names only what a verifier of its access tokens needs.
 */
export function wellKnownRoutes(config: Config, jwks: () => JsonWebKeySet): [string, FixedRoute][] {
  const { issuer, audience, policiesClaim } = config.tokens;
  const cacheControl = `public, max-age=${Math.min(MAX_AGE_SECONDS, config.tokens.keyActivationDelaySeconds)}`;
  const discovery = () => ({
    issuer,
    jwks_uri: `${config.publicUrl}${JWKS_PATH}`,
    id_token_signing_alg_values_supported: [...new Set([config.tokens.algorithm, ...jwks().keys.map((k) => k.alg)])],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', policiesClaim],
    access_token_audience: audience,
    graphql_endpoint: `${config.publicUrl}/graphql`,
  });
  const headers = (type: string) => ({
    'content-type': type,
    'cache-control': cacheControl,
    // Public data by design; browsers of other origins may read it.
    'access-control-allow-origin': '*',
  });
  return [
    [JWKS_PATH, () => new Response(JSON.stringify(jwks()), { status: 200, headers: headers('application/jwk-set+json') })],
    [DISCOVERY_PATH, () => new Response(JSON.stringify(discovery()), { status: 200, headers: headers('application/json') })],
  ];
}
