import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLErrorBody {
  message: string;
  path?: string[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data: T | null;
  errors: GraphQLErrorBody[] | undefined;
  headers: Headers;
  /** Raw Set-Cookie headers of the response. */
  setCookies: string[];
  /** The first error's code, for terse assertions. */
  code: string | undefined;
}

export interface RequestOptions {
  token?: string;
  /** Value of the Cookie header. */
  cookie?: string;
  headers?: Record<string, string>;
}

/** Sends typed documents (generated from test/operations) to a real server over HTTP. */
export class GraphQLTestClient {
  constructor(readonly endpoint: string) {}

  async request<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
    options: RequestOptions = {},
  ): Promise<GraphQLResponse<TData>> {
    return this.raw<TData>({ query: print(document), variables: variables ?? {} }, options);
  }

  async raw<TData = Record<string, unknown>>(body: unknown, options: RequestOptions = {}): Promise<GraphQLResponse<TData>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    const response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = (await response.json()) as { data?: TData | null; errors?: GraphQLErrorBody[] };
    return {
      status: response.status,
      data: json.data ?? null,
      errors: json.errors,
      headers: response.headers,
      setCookies: response.headers.getSetCookie(),
      code: json.errors?.[0]?.extensions?.code,
    };
  }
}

/** The attributes of one Set-Cookie header, keyed in lower case. */
export function parseSetCookie(header: string): { name: string; value: string; attributes: Record<string, string | true> } {
  const [pair = '', ...parts] = header.split(';').map((s) => s.trim());
  const index = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq === -1) attributes[part.toLowerCase()] = true;
    else attributes[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return { name: pair.slice(0, index), value: pair.slice(index + 1), attributes };
}

/** The Set-Cookie header for a cookie name, parsed; undefined when the response set none. */
export function findCookie(response: { setCookies: string[] }, name: string) {
  return response.setCookies.map(parseSetCookie).find((c) => c.name === name);
}
