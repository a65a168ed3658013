import { GraphQLError } from 'graphql';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { withoutSuggestions } from './suggestions.ts';

// GraphQL errors are recognised by name, not instanceof: the executor may load another copy of
// the graphql package (ESM and CJS builds), whose GraphQLError is a different class.
type GraphQLErrorLike = Error & {
  originalError?: unknown;
  extensions?: Record<string, unknown>;
  path?: readonly (string | number)[];
  nodes?: GraphQLError['nodes'];
};

/**
 * Yoga's own request errors, under our documented codes and fixed messages; Yoga's message
 * ("Must provide query string.", "POST body sent invalid JSON.") goes to `extensions.reason`.
 * Its 405 for a mutation over GET is a BAD_REQUEST to Yoga, METHOD_NOT_ALLOWED here.
 */
function yogaCode(extensions: Record<string, unknown> | undefined): ErrorCode | null {
  const code = extensions?.code;
  const status = (extensions?.http as { status?: number } | undefined)?.status;
  if (code === 'REQUEST_ENTITY_TOO_LARGE') return 'REQUEST_TOO_LARGE';
  if (code === 'BAD_REQUEST') return status === 405 ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST';
  if (code === 'OPERATION_RESOLUTION_FAILURE') return 'BAD_REQUEST';
  return null;
}

/** What a client is told to wait before retrying during an outage (Retry-After and `extensions.retryAfter`). */
export const RETRY_AFTER_SECONDS = 5;

const isGraphQLError = (error: unknown): error is GraphQLErrorLike => error instanceof Error && error.name === 'GraphQLError';

/** The error a resolver threw, under however many GraphQL wrappers; undefined for pure GraphQL errors. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current)) {
    if (!current.originalError) return undefined;
    current = current.originalError;
  }
  return current;
}

/**
 * The single exit for errors: our typed errors become their code and public message; parse and
 * validation errors keep their (schema-only) message; anything else is logged and masked.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown): Error => {
    const graphqlError = isGraphQLError(error) ? error : null;
    const location = { nodes: graphqlError?.nodes, path: graphqlError?.path };
    const cause = rootCause(error);
    if (cause instanceof AppError) {
      return new GraphQLError(cause.message, { ...location, extensions: { ...cause.extensions, code: cause.code } });
    }
    if (graphqlError && cause === undefined) {
      const mapped = yogaCode(graphqlError.extensions);
      if (mapped) {
        // `http` sets the status and headers (Allow); `originalError` would echo a JSON parser's message.
        const { originalError: _, ...extensions } = graphqlError.extensions ?? {};
        const reason = mapped === 'REQUEST_TOO_LARGE' ? {} : { reason: graphqlError.message };
        return new GraphQLError(ERROR_CODES[mapped], { ...location, extensions: { ...extensions, ...reason, code: mapped } });
      }
      const code = graphqlError.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED';
      return new GraphQLError(withoutSuggestions(graphqlError.message), { ...location, extensions: { ...graphqlError.extensions, code } });
    }
    if ((cause ?? error) instanceof SyntaxError && !graphqlError?.path) {
      // JSON.parse of a GET's `variables` or `extensions`: the client's mistake, and its message
      // quotes the input (a password, say), so neither the answer nor the log repeats it.
      logger.debug({ code: 'BAD_REQUEST' }, 'malformed JSON in the query string');
      return new GraphQLError(ERROR_CODES.BAD_REQUEST, {
        extensions: { code: 'BAD_REQUEST', reason: 'variables or extensions is not valid JSON', http: { status: 400 } },
      });
    }
    if (isDatabaseUnavailable(cause ?? error)) {
      // An outage, not a bug: retryable, and the status (503 when nothing succeeded) is set by
      // useServiceUnavailableStatus, which sees the whole result.
      logger.warn({ err: cause ?? error, path: graphqlError?.path }, 'database unavailable');
      return new GraphQLError(ERROR_CODES.SERVICE_UNAVAILABLE, {
        ...location,
        extensions: {
          code: 'SERVICE_UNAVAILABLE',
          retryAfter: RETRY_AFTER_SECONDS,
          http: { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
        },
      });
    }
    logger.error({ err: cause ?? error, path: graphqlError?.path }, 'unexpected error');
    return new GraphQLError('Unexpected error.', { ...location, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
