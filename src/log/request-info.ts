import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What the request log line says of a request, filled in as the request is handled. */
export interface RequestInfo {
  requestId: string;
  /** The GraphQL operation's name (well-formed names only), once known. */
  operationName?: string;
  /** The signed-in user, once the credentials were checked. */
  userId?: string;
}

/**
 * The request being handled, for everything that runs on its behalf: the logger adds its
 * requestId to every line (logger.ts), the GraphQL context and plugins fill in the rest.
 */
export const requestStore = new AsyncLocalStorage<RequestInfo>();

// A client's X-Request-Id is kept (so one id follows a request through proxies) when it is short
// and plain; anything else is replaced, so it cannot forge log lines or fill them.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export function noteOperationName(name: string | null | undefined): void {
  const info = requestStore.getStore();
  if (info && name) info.operationName = OPERATION_NAME.test(name) ? name : '(invalid)';
}

export function noteUserId(userId: string | null | undefined): void {
  const info = requestStore.getStore();
  if (info && userId) info.userId = userId;
}
