import {
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  TypeInfo,
  type ValueNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';

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
    // A null default (`$n: Int = null`) is no page size: the argument's own default applies.
    const fallback = value === undefined ? defaults.get(name) : undefined;
    return fallback?.kind === Kind.NULL ? undefined : fallback;
  };
  return visit(document, {
    OperationDefinition: (node) => (node === operation ? undefined : null),
    // A variable that gives no integer leaves the argument to its default (see withDefaultPageSizes).
    Argument(node): ArgumentNode | null | undefined {
      if (!PAGE_SIZE_ARGUMENTS.has(node.name.value) || node.value.kind !== Kind.VARIABLE) return undefined;
      const literal = literalOf(node.value.name.value);
      return literal ? { ...node, value: literal } : null;
    },
  });
}

/**
 * The document with `first: N` written in wherever a field whose `first` (or `last`) argument has
 * a default page size N is asked for without either, or with `null` (the resolvers then return
 * their default page too): graphql-armor's cost rule multiplies a list only by a literal, so such a
 * page would otherwise cost as one item while the resolver returns N. Returns the same document
 * when nothing was missing.
 */
export function withDefaultPageSizes(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  // Not cached: it runs once per document at validation (which Yoga caches per query text), and per
  // request only on documents with variable page sizes, each a new object.
  const typeInfo = new TypeInfo(schema);
  let changed = false;
  const result = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node): FieldNode | undefined {
        const args = typeInfo.getFieldDef()?.args;
        const paged = args?.find((a) => PAGE_SIZE_ARGUMENTS.has(a.name) && Number.isSafeInteger(a.defaultValue));
        if (!paged) return undefined;
        const sized = node.arguments?.some((a) => PAGE_SIZE_ARGUMENTS.has(a.name.value) && a.value.kind !== Kind.NULL);
        if (sized) return undefined;
        changed = true;
        const size: ArgumentNode = {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: paged.name },
          value: { kind: Kind.INT, value: String(paged.defaultValue) },
        };
        const others = (node.arguments ?? []).filter((a) => !PAGE_SIZE_ARGUMENTS.has(a.name.value));
        return { ...node, arguments: [...others, size] };
      },
    }),
  );
  return changed ? result : document;
}
