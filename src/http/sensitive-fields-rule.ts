import { type ASTVisitor, GraphQLError, Kind, type SelectionSetNode, type ValidationContext } from 'graphql';
import { ERROR_CODES } from '../errors.ts';
import { SENSITIVE_FIELD_NAMES } from '../modules/rate-limits/sensitive-operations.ts';

/**
 * Refuses an operation in which a sensitive root field (login, refresh, ...) is selected more
 * than once, however the repetition is spelled: aliases, fragment spreads, inline fragments, or
 * the same fragment spread twice. Fifty aliased logins in one request would otherwise be fifty
 * password guesses for the price of one HTTP request. Directives are ignored on purpose:
 * `@skip(if: $x)` is decided by variables, after validation.
 */
export function sensitiveFieldsOnceRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      const seen = new Set<string>();
      const reported = new Set<string>();
      const visitedFragments = new Set<string>();
      const walk = (selectionSet: SelectionSetNode) => {
        for (const selection of selectionSet.selections) {
          if (selection.kind === Kind.FIELD) {
            // Only root fields are mutations; nested selections belong to their results.
            const name = selection.name.value;
            if (!SENSITIVE_FIELD_NAMES.has(name)) continue;
            if (seen.has(name) && !reported.has(name)) {
              reported.add(name);
              context.reportError(
                new GraphQLError(ERROR_CODES.SENSITIVE_FIELD_REPEATED, {
                  nodes: [selection],
                  extensions: { code: 'SENSITIVE_FIELD_REPEATED', field: name },
                }),
              );
            }
            seen.add(name);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet);
          } else {
            const fragmentName = selection.name.value;
            const fragment = context.getFragment(fragmentName);
            // A second spread of one fragment repeats its fields: walk it again, unless it is
            // already being walked (a cycle, which NoFragmentCyclesRule reports).
            if (!fragment || visitedFragments.has(fragmentName)) continue;
            visitedFragments.add(fragmentName);
            walk(fragment.selectionSet);
            visitedFragments.delete(fragmentName);
          }
        }
      };
      walk(operation.selectionSet);
    },
  };
}
