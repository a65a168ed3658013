import type { IncomingMessage } from 'node:http';
import type { ClientInfo } from '../modules/sessions/session.service.ts';
import { createTrustedProxies, resolveClientIp, type TrustedProxies } from './client-ip.ts';

const trustedByConfig = new WeakMap<readonly string[], TrustedProxies>();

/** The client as this process can establish it: the socket peer, or X-Forwarded-For through trusted proxies only. */
export function readClientInfo(request: Request, req: IncomingMessage | undefined, trustedProxies: readonly string[]): ClientInfo {
  let trusted = trustedByConfig.get(trustedProxies);
  if (!trusted) {
    trusted = createTrustedProxies(trustedProxies);
    trustedByConfig.set(trustedProxies, trusted);
  }
  return {
    userAgent: request.headers.get('user-agent'),
    ip: resolveClientIp(req?.socket?.remoteAddress, request.headers.get('x-forwarded-for'), trusted),
  };
}
