import type { IncomingMessage } from 'node:http';
import type { ClientInfo } from '../modules/sessions/session.service.ts';

/**
 * The client as this process sees it: the socket's address. Forwarded headers are not trusted
 * here; a trusted-proxy setting is what may later allow them.
 */
export function readClientInfo(request: Request, req: IncomingMessage | undefined): ClientInfo {
  const address = req?.socket?.remoteAddress ?? null;
  return {
    userAgent: request.headers.get('user-agent'),
    ip: address?.startsWith('::ffff:') ? address.slice(7) : address,
  };
}
