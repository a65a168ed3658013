import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import { requestStore } from './request-info.ts';

export type { Logger };

// Keys whose values never reach a log line, wherever they sit in the logged object. GraphQL
// documents and variables are among them: a document may hold a password inline
// (`login(password: "…")`), and variables are the client's input, passwords included.
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'refreshToken',
  'accessToken',
  'otp',
  'secret',
  'authorization',
  'cookie',
  'link',
  'query',
  'variables',
  'document',
  'source',
];

// Properties of error objects that carry request input: a GraphQLError's `source` is the whole
// document, `nodes` its parsed pieces; executors attach `variables` and `query` to some errors.
const ERROR_INPUT_KEYS = new Set(['source', 'nodes', 'positions', 'variables', 'query', 'document', 'params']);

type ErrorLike = Error & { extensions?: Record<string, unknown>; path?: unknown; locations?: unknown; originalError?: unknown };

const isGraphQLError = (error: ErrorLike) => error.name === 'GraphQLError' || 'locations' in error || 'nodes' in error;

/**
 * Errors as they may be logged. A GraphQL error keeps its code, path and locations, never its
 * message: parse and validation messages quote the document (`Unexpected String "hunter2"`,
 * `Expected type Int, found "…"`), and its printed form includes the document's lines. Other
 * errors keep pino's standard form, minus any property that carries request input.
 */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const error = value as ErrorLike;
  if (isGraphQLError(error)) {
    const cause = error.originalError instanceof Error ? serializeError(error.originalError) : undefined;
    return {
      type: 'GraphQLError',
      code: error.extensions?.code,
      path: error.path,
      locations: error.locations,
      ...(cause ? { cause } : {}),
    };
  }
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of Object.keys(serialized)) if (ERROR_INPUT_KEYS.has(key)) delete serialized[key];
  return serialized;
}

export interface LogOutput {
  /** LOG_FORMAT: `auto` is pretty in development on a terminal, JSON otherwise. */
  format: 'auto' | 'json' | 'pretty';
  env: string;
}

/**
 * The service's logger (JSON lines on stdout, or `destination`). Redaction happens here, once,
 * whatever the caller logs: secret keys are censored and errors go through `serializeError`.
 * A line written while a request is handled carries its requestId (X-Request-Id).
 */
export function createLogger(level: string, destination?: DestinationStream, output?: LogOutput): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    mixin: () => {
      const info = requestStore.getStore();
      return info ? { requestId: info.requestId } : {};
    },
  };
  const stream = destination ?? (output && wantsPretty(output) ? prettyStream() : null);
  return stream ? pino(options, stream) : pino(options);
}

function wantsPretty({ format, env }: LogOutput): boolean {
  return format === 'pretty' || (format === 'auto' && env === 'development' && process.stdout.isTTY === true);
}

/**
 * pino-pretty is a development dependency: loaded only when pretty output is wanted, and when it
 * is not installed (a production install) the logger stays JSON rather than failing to start.
 * Redaction and serializers run before it, as for JSON.
 */
function prettyStream(): DestinationStream | null {
  try {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true });
  } catch {
    return null;
  }
}
