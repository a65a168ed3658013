import type { Plugin } from 'graphql-yoga';

/**
 * HTTP 503 for an operation that failed as a whole because a dependency was unavailable (no data
 * at all, and a SERVICE_UNAVAILABLE error), so load balancers and clients see an outage rather
 * than a successful response. A partial result keeps its 200: other fields did succeed.
 * Retry-After comes with the error itself (maskError).
 */
export function useServiceUnavailableStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
      const single = result as {
        data?: unknown;
        errors?: readonly { extensions?: Record<string, unknown> }[];
        extensions?: Record<string, unknown>;
      };
      if (single.data != null) return;
      if (!single.errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
      setResult({ ...single, extensions: { ...single.extensions, http: { status: 503 } } } as typeof result);
    },
  };
}
