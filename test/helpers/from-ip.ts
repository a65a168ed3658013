import http from 'node:http';
import type { GraphQLErrorBody } from './graphql-client.ts';

export interface RawResponse<T = Record<string, unknown>> {
  status: number;
  headers: http.IncomingHttpHeaders;
  data: T | null;
  errors: GraphQLErrorBody[] | undefined;
  code: string | undefined;
}

/**
 * POSTs a GraphQL body from a chosen loopback address (any of 127.0.0.0/8 reaches a server on
 * 127.0.0.1 on Linux), so tests can be different clients by their socket address, the one a
 * server without trusted proxies goes by.
 */
export function postFrom<T = Record<string, unknown>>(
  endpoint: string,
  localAddress: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse<T>> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      endpoint,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString()) as { data?: T | null; errors?: GraphQLErrorBody[] };
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              data: json.data ?? null,
              errors: json.errors,
              code: json.errors?.[0]?.extensions?.code,
            });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits out a RATE_LIMITED answer's retryAfter (seconds), plus a little for the window edge. */
export function waitRetryAfter(response: { errors?: GraphQLErrorBody[] }): Promise<unknown> {
  const seconds = Number(response.errors?.[0]?.extensions?.retryAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`no retryAfter in ${JSON.stringify(response.errors)}`);
  return sleep(seconds * 1000 + 150);
}
