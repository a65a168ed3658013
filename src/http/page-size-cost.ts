import { type ArgumentNode, type DocumentNode, getOperationAST, Kind, type ValueNode, visit } from 'graphql';

/** The arguments graphql-armor's cost rule multiplies a list by, when they are integer literals. */
const PAGE_SIZE_ARGUMENTS = new Set(['first', 'last']);

/** Per parsed document (Yoga caches them, so repeated queries hit): does a page size come from a variable? */
const usesVariablePageSize = new WeakMap<DocumentNode, boolean>();

function bindsPageSizeToVariable(document: DocumentNode): boolean {
  let found = usesVariablePageSize.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Argument(node) {
        if (PAGE_SIZE_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) found = true;
      },
    });
    usesVariablePageSize.set(document, found);
  }
  return found;
}

/**
 * The operation that runs, with every `first: $n` / `last: $n` written as the integer literal the
 * request's variables (or the variable's default) give it, and the other operations left out; null
 * when no page size comes from a variable. graphql-armor's cost rule multiplies a list only by a
 * literal: it runs at validation, which sees no variables (and whose result Yoga caches per
 * document), so this document is what it must cost for the request.
 */
export function inlinePageSizes(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): DocumentNode | null {
  if (!bindsPageSizeToVariable(document)) return null;
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const defaults = new Map<string, ValueNode | undefined>(
    (operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition.defaultValue]),
  );
  const literalOf = (name: string): ValueNode | undefined => {
    const value = variables != null && Object.hasOwn(variables, name) ? variables[name] : undefined;
    // Anything but an integer is refused by the Int argument's coercion before a resolver runs.
    if (Number.isSafeInteger(value)) return { kind: Kind.INT, value: String(value) };
    return value === undefined ? defaults.get(name) : undefined;
  };
  return visit(document, {
    OperationDefinition: (node) => (node === operation ? undefined : null),
    Argument(node): ArgumentNode | undefined {
      if (!PAGE_SIZE_ARGUMENTS.has(node.name.value) || node.value.kind !== Kind.VARIABLE) return undefined;
      const literal = literalOf(node.value.name.value);
      return literal ? { ...node, value: literal } : undefined;
    },
  });
}
