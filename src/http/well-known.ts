import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config/config.ts';
import type { JsonWebKeySet } from '../modules/signing-keys/signing-key.service.ts';

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
export function useWellKnown(config: Config, jwks: () => JsonWebKeySet): Plugin {
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
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const body = url.pathname === JWKS_PATH ? jwks : url.pathname === DISCOVERY_PATH ? discovery : null;
      if (!body) return;
      const headers: Record<string, string> = {
        'content-type': url.pathname === JWKS_PATH ? 'application/jwk-set+json' : 'application/json',
        'cache-control': cacheControl,
        // Public data by design; browsers of other origins may read it.
        'access-control-allow-origin': '*',
      };
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : JSON.stringify(body()), { status: 200, headers }));
    },
  };
}
