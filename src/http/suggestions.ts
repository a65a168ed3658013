import type { Plugin } from 'graphql-yoga';

/**
 * graphql-js appends " Did you mean …?" to messages about unknown fields, arguments, types, enum
 * values and input fields, in validation and in variable coercion alike. With introspection off
 * that would map the schema name by name, so the suggestion is cut from every message that
 * leaves: here for validation results, in maskError for everything else. (Cutting from the first
 * "Did you mean" on also drops any client text after it: harmless.)
 */
export function withoutSuggestions(message: string): string {
  const at = message.search(/\s*Did you mean\b/);
  return at === -1 ? message : message.slice(0, at);
}

/** Validation errors are returned by Yoga as they are, without passing through maskError. */
export function useNoSuggestions(): Plugin {
  return {
    onValidate() {
      return ({ valid, result }) => {
        if (valid) return;
        for (const error of result) error.message = withoutSuggestions(error.message);
      };
    },
  };
}
