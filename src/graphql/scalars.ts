import { valueFromASTUntyped } from 'graphql';
import { AppError } from '../errors.ts';
import { builder } from './builder.ts';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new AppError('BAD_USER_INPUT', { message: 'DateTime: expected an ISO-8601 string.' });
    return date;
  },
});

/** Arbitrary JSON (permission presets and row filters); the services that take values check them. */
export const JSONScalar = builder.scalarType('JSON', {
  description: 'A JSON value: object, array, string, number, boolean or null.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables ?? undefined),
});
