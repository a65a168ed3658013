import type { YogaLogger } from 'graphql-yoga';
import type { Logger } from './logger.ts';

type Level = 'debug' | 'info' | 'warn';

/**
 * graphql-yoga's log calls, forwarded to our logger without ever turning an error into text:
 * `String(graphqlError)` prints the lines of the document it points at, passwords included.
 * Strings (Yoga's own fixed messages) are kept, an error goes through the logger's error
 * serializer, and any other argument (request parameters, for one) is dropped.
 * Yoga reports every GraphQL error, expected ones included, at error level; the unexpected ones
 * are logged by maskError, so Yoga's own reports go to debug.
 */
export function createYogaLogger(logger: Logger): YogaLogger {
  const forward =
    (level: Level) =>
    (...args: unknown[]) => {
      if (!logger.isLevelEnabled(level)) return;
      const message = args.filter((a): a is string => typeof a === 'string').join(' ');
      const err = args.find((a) => a instanceof Error);
      if (err) logger[level]({ err }, message || 'GraphQL error');
      else if (message) logger[level](message);
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('debug') };
}
