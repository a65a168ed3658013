import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/config.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { withParams } from '../modules/sso/sso-redirect.ts';
import { stateCookie } from '../modules/sso/sso-state.ts';
import type { Services } from '../services.ts';
import { readClientInfo } from './client-info.ts';
import { ResponseCookies } from './cookies.ts';
import { errorResponse } from './error-response.ts';
import type { FixedRoute } from './router.ts';

/**
 * The two exact paths of each configured provider: `/auth/login/<name>` starts a sign-in and
 * `/auth/login/<name>/callback` receives the provider's answer. Both are top-level GET
 * navigations, outside GraphQL and its CSRF check; what protects the callback against login CSRF
 * is the state bound to the browser's sealed cookie (see sso-state.ts). Every outcome is a 303 to
 * an allow-listed redirect, carrying a login code or a pending-link code, or `error=<documented code>`,
 * and never a token.
 */
export function ssoRoutes(config: Config, services: Services, logger: Logger): [string, FixedRoute][] {
  const routes: [string, FixedRoute][] = [];
  for (const provider of config.authProviders) {
    const name = provider.name;
    const fallback = provider.redirectAllowList[0] as string;

    const start: FixedRoute = async (req) => {
      if (req.method !== 'GET') return errorResponse(405, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET' } });
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const client = clientOf(req, config);
      let flow: Awaited<ReturnType<typeof services.sso.start>>;
      try {
        await services.rateLimits.consume('ssoLogin', client.ip, null);
        flow = await services.sso.start(name, { redirect: query.get('redirect'), mode: query.get('mode'), link: query.get('link') });
      } catch (error) {
        // A redirect that is not allowed is not followed, not even to report the error.
        if (error instanceof AppError && error.code === 'BAD_USER_INPUT') return errorResponse(400, 'BAD_USER_INPUT');
        return failure(error, fallbackFor(query.get('redirect')), null, client.ip);
      }
      return redirectTo(flow.authorizationUrl, [stateCookie(config.cookies, name, services.sso.sealState(flow.state))]);
    };

    const callback: FixedRoute = async (req) => {
      if (req.method !== 'GET') return errorResponse(405, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET' } });
      const state = services.sso.readState(headerOf(req, 'cookie'), name);
      // The state is spent whatever happens: a callback is answered once per flow.
      const clear = stateCookie(config.cookies, name, null);
      const client = clientOf(req, config);
      const search = new URL(req.url ?? '/', 'http://x').search;
      // The URL the provider sent the browser to, as registered with it (PUBLIC_URL), not as the Host header says.
      const callbackUrl = new URL(`${services.sso.callbackUrl(name)}${search}`);
      try {
        await services.rateLimits.consume('ssoLogin', client.ip, null);
        const outcome = await services.sso.complete(name, callbackUrl, state, client);
        // Nothing is linked yet: the app confirms with confirmLinkIdentity from the session that asked.
        if (outcome.kind === 'pending-link')
          return redirectTo(withParams(outcome.redirect, { link_code: outcome.code, provider: name }), [clear]);
        if (outcome.kind === 'code') {
          const params: Record<string, string> = { code: outcome.code };
          if (outcome.otpRequired) params.otp_required = 'true';
          return redirectTo(withParams(outcome.redirect, params), [clear]);
        }
        const cookies = new ResponseCookies(config.cookies);
        const { credentials } = outcome;
        cookies.set(credentials.mode === 'COOKIE' ? 'refresh' : 'session', credentials.token, credentials.tokenTtl);
        return redirectTo(outcome.redirect, [clear, ...cookies.toHeaders()]);
      } catch (error) {
        return failure(error, state?.redirect ?? fallback, clear, client.ip, state?.link?.userId ?? null);
      }
    };

    /** An error's redirect: a documented code only, recorded for the audit log. */
    function failure(error: unknown, redirect: string, clear: string | null, ip: string | null, userId: string | null = null): Response {
      let code: ErrorCode = 'INTERNAL_SERVER_ERROR';
      if (error instanceof AppError) code = error.code;
      else if (isDatabaseUnavailable(error)) code = 'SERVICE_UNAVAILABLE';
      else logger.error({ err: error, provider: name }, 'single sign-on failed unexpectedly');
      services.sso.record({ type: 'sso.refused', provider: name, userId, code, ip });
      return redirectTo(withParams(redirect, { error: code }), clear ? [clear] : []);
    }

    /** Where a refused start reports to: the requested redirect if allowed, else the first entry. */
    function fallbackFor(requested: string | null): string {
      return provider.redirectAllowList.find((entry) => entry === requested) ?? fallback;
    }

    routes.push([`/auth/login/${name}`, start]);
    routes.push([`/auth/login/${name}/callback`, callback]);
  }
  return routes;
}

function redirectTo(location: string, cookies: readonly string[]): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 303, headers });
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join('; ') : null;
}

function clientOf(req: IncomingMessage, config: Config) {
  const headers = new Headers();
  for (const name of ['user-agent', 'x-forwarded-for']) {
    const value = headerOf(req, name);
    if (value !== null) headers.set(name, value);
  }
  return readClientInfo(new Request('http://gatehouse.invalid/', { headers }), req, config.trustedProxies);
}
