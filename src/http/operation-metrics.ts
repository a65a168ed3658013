import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { noteOperationName } from '../log/request-info.ts';
import type { Metrics } from '../metrics/metrics.ts';

/**
 * Counts executed GraphQL operations by name (bounded, see Metrics.operationLabel), type and
 * outcome, and hands the name to the request log. Requests refused before execution (parse,
 * validation, limits) show in the HTTP metrics by status.
 */
export function useOperationMetrics(metrics: Metrics): Plugin {
  return {
    onParams({ params }) {
      if (typeof params.operationName === 'string') noteOperationName(params.operationName);
    },
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      const name = operation?.name?.value ?? null;
      noteOperationName(name);
      const labels = { operation: metrics.operationLabel(name), type: operation?.operation ?? 'unknown' };
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          metrics.graphqlOperations.inc({ ...labels, outcome: failed ? 'error' : 'success' });
        },
      };
    },
  };
}
