import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { type ASTVisitor, GraphQLError, type ValidationContext, type ValidationRule, validate } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Config } from '../config/config.ts';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import { inputProblem } from './input-guard.ts';
import { inlinePageSizes, withDefaultPageSizes } from './page-size-cost.ts';
import { sensitiveFieldsOnceRule } from './sensitive-fields-rule.ts';
import { useNoSuggestions } from './suggestions.ts';

// Everything here runs before any resolver (and before the context is built): a request that
// breaks one of these limits costs a parse and a validation, and nothing else. Validation results
// are cached per document by Yoga, so well-behaved clients pay for the rules once per query text.

const limitError = (code: ErrorCode, limit: number) => new GraphQLError(ERROR_CODES[code], { extensions: { code, limit } });

/**
 * Armor's rules report through our codes instead of throwing their own "Syntax Error" message:
 * `propagateOnRejection: false` plus an onReject that reports to the validation context.
 */
const reportAs =
  (code: ErrorCode, limit: number) =>
  (context: ValidationContext | null): void =>
    context?.reportError(limitError(code, limit));

const armorOptions = (code: ErrorCode, limit: number) => ({ propagateOnRejection: false, onReject: [reportAs(code, limit)] });

// Federation's `_service { sdl }` prints the whole schema too: with introspection off, gateways
// compose from the committed schema.subgraph.graphql instead (README, Federation).
const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '_service']);

function introspectionDisabledRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (INTROSPECTION_FIELDS.has(node.name.value)) {
        context.reportError(
          new GraphQLError(ERROR_CODES.INTROSPECTION_DISABLED, { nodes: [node], extensions: { code: 'INTROSPECTION_DISABLED' } }),
        );
      }
    },
  };
}

/** A NUL written as an escape in a string literal ("\u0000"): the same refusal as in variables. */
function noNulInLiteralsRule(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes('\u0000')) {
        context.reportError(
          new GraphQLError(`${ERROR_CODES.BAD_USER_INPUT} (a string contains a NUL character)`, {
            nodes: [node],
            extensions: { code: 'BAD_USER_INPUT' },
          }),
        );
      }
    },
  };
}

const costRule = (maxCost: number) => costLimitRule({ maxCost, ...armorOptions('QUERY_TOO_COSTLY', maxCost) }) as ValidationRule;

/**
 * graphql-armor's cost rule over the document with default page sizes written in
 * (withDefaultPageSizes): a page asked for without `first` costs as the page its resolver returns.
 */
function costRuleWithDefaultPageSizes(maxCost: number): ValidationRule {
  const rule = costRule(maxCost);
  return (context) => ({
    Document(document) {
      const schema = context.getSchema();
      for (const error of validate(schema, withDefaultPageSizes(schema, document), [rule])) context.reportError(error);
      return false;
    },
  });
}

export function validationRules(limits: Config['graphqlLimits']): ValidationRule[] {
  const rules: ValidationRule[] = [sensitiveFieldsOnceRule, noNulInLiteralsRule];
  if (!limits.introspection) rules.push(introspectionDisabledRule);
  if (limits.maxDepth !== null) rules.push(maxDepthRule({ n: limits.maxDepth, ...armorOptions('QUERY_TOO_DEEP', limits.maxDepth) }));
  if (limits.maxAliases !== null)
    rules.push(maxAliasesRule({ n: limits.maxAliases, ...armorOptions('QUERY_TOO_MANY_ALIASES', limits.maxAliases) }));
  if (limits.maxDirectives !== null)
    rules.push(maxDirectivesRule({ n: limits.maxDirectives, ...armorOptions('QUERY_TOO_MANY_DIRECTIVES', limits.maxDirectives) }));
  if (limits.maxCost !== null) rules.push(costRuleWithDefaultPageSizes(limits.maxCost));
  return rules as ValidationRule[];
}

/** Stops the lexer after `maxTokens` tokens, so a huge document costs no more than a small one. */
export function parseWithTokenLimit(maxTokens: number) {
  return (source: Parameters<typeof parseDocument>[0], options?: Parameters<typeof parseDocument>[1]) => {
    let exceeded = false;
    try {
      return parseDocument(source, { ...options, n: maxTokens, onReject: [() => (exceeded = true)] });
    } catch (error) {
      throw exceeded ? limitError('QUERY_TOO_MANY_TOKENS', maxTokens) : error;
    }
  };
}

function parseDocument(
  source: ConstructorParameters<typeof MaxTokensParserWLexer>[0],
  options: ConstructorParameters<typeof MaxTokensParserWLexer>[1],
) {
  return new MaxTokensParserWLexer(source, options).parseDocument();
}

/**
 * Query limits (tokens, depth, aliases, directives, cost), the once-per-document rule for
 * sensitive fields, introspection when it is off, no name suggestions, and no array batching.
 */
export function useGraphQLLimits(limits: Config['graphqlLimits']): Plugin[] {
  const rules = validationRules(limits);
  const maxTokens = limits.maxTokens;
  const variableCostRule = limits.maxCost !== null ? costRule(limits.maxCost) : null;
  return [
    {
      onParse({ setParseFn }) {
        if (maxTokens !== null) setParseFn(parseWithTokenLimit(maxTokens) as never);
      },
      onValidate({ addValidationRule, params, context }) {
        for (const rule of rules) addValidationRule(rule);
        if (!variableCostRule) return;
        // Page sizes passed as variables (`first: $n`) are costed per request, as the literals they
        // stand for: validation sees no variables. Thrown rather than set as the result, which Yoga
        // caches per document (the same document with small pages must pass). Still before the
        // context is built.
        return ({ valid }) => {
          if (!valid) return;
          const request = (context as Partial<YogaInitialContext>).params;
          const inlined = inlinePageSizes(params.documentAST, request?.operationName, request?.variables);
          if (!inlined) return;
          const [error] = validate(params.schema, withDefaultPageSizes(params.schema, inlined), [variableCostRule]);
          if (error) throw error;
        };
      },
      // Yoga refuses arrays already (batching is off); this gives the refusal our documented code.
      onRequestParse() {
        return {
          onRequestParseDone({ requestParserResult }) {
            if (Array.isArray(requestParserResult)) {
              throw new GraphQLError(ERROR_CODES.BATCHING_NOT_SUPPORTED, {
                extensions: { code: 'BATCHING_NOT_SUPPORTED', http: { status: 400 } },
              });
            }
            const problem = inputProblem(requestParserResult.query, requestParserResult.variables);
            if (problem) {
              throw new GraphQLError(`${ERROR_CODES.BAD_USER_INPUT} (${problem})`, {
                extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
              });
            }
          },
        };
      },
    },
    useNoSuggestions(),
  ];
}
