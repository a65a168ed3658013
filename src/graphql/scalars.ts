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
