/** One HTTP exchange as a client library made it. */
export interface Exchange {
  method: string;
  url: URL;
  headers: Headers;
  /** The GraphQL request: the JSON body of a POST, or the parameters of a GET. */
  request: { operationName?: string; query?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> };
  status: number;
  response: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}

/**
 * A fetch for client libraries that records every GraphQL request and response it carries, so a
 * test can assert what went over the wire (methods, headers, persisted-query hashes, error codes).
 */
export function recordingFetch() {
  const exchanges: Exchange[] = [];
  const record: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body =
      request.method === 'GET'
        ? Object.fromEntries([...url.searchParams].map(([k, v]) => [k, k === 'variables' || k === 'extensions' ? JSON.parse(v) : v]))
        : JSON.parse(await request.clone().text());
    const response = await fetch(request);
    const json = await response
      .clone()
      .json()
      .catch(() => ({}));
    exchanges.push({ method: request.method, url, headers: request.headers, request: body, status: response.status, response: json });
    return response;
  };
  return {
    fetch: record,
    exchanges,
    /** `Name` for each request, `Name(hash)` when only a persisted-query hash was sent, and the error code it got. */
    trace: () =>
      exchanges.map((e) => {
        const name = e.request.operationName ?? /(?:query|mutation)\s+(\w+)/.exec(e.request.query ?? '')?.[1] ?? '?';
        const code = e.response.errors?.[0]?.extensions?.code;
        return `${e.method} ${name}${e.request.query ? '' : '(hash)'}${code ? ` -> ${code}` : ''}`;
      }),
  };
}
