import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../errors.ts';

/** Codes that mean "not now" rather than "not so": the client should come back after Retry-After. */
const UNAVAILABLE_CODES: ReadonlySet<ErrorCode> = new Set(['SERVICE_BUSY', 'SERVICE_UNAVAILABLE']);

interface ResultLike {
  data?: Record<string, unknown> | null;
  errors?: readonly { extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/**
 * HTTP 503 when the whole operation failed for one of UNAVAILABLE_CODES: no top-level field has a
 * value and some error carries such a code. A document where other fields succeeded keeps 200 (a
 * load balancer or client must not throw their results away); the Retry-After header comes with
 * the error either way. Runs on the masked result, so it sees only documented codes.
 */
export function useUnavailableStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !isResult(result)) return;
      const unavailable = result.errors?.some((e) => UNAVAILABLE_CODES.has(e.extensions?.code as ErrorCode));
      if (!unavailable || !wholeOperationFailed(result)) return;
      const http = (result.extensions?.http as Record<string, unknown> | undefined) ?? {};
      setResult({ ...result, extensions: { ...result.extensions, http: { ...http, status: 503 } } } as typeof result);
    },
  };
}

function isResult(value: unknown): value is ResultLike {
  return typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value);
}

function wholeOperationFailed(result: ResultLike): boolean {
  if (result.data == null) return true;
  return Object.values(result.data).every((value) => value === null);
}
