import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.ts';
import { ENV_VARIABLES } from './config.ts';

describe('README configuration table', () => {
  it('documents every environment variable the configuration reads', () => {
    const rows = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('|'));
    const undocumented = ENV_VARIABLES.filter((name) => !rows.some((row) => row.includes(`\`${name}\``)));
    expect(undocumented).toEqual([]);
  });
});

describe('README error table', () => {
  it('documents every error code a client can receive', () => {
    const firstCells = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|')[1] ?? '');
    // Ours, plus the two that graphql-js/Yoga assign to documents that do not parse or validate.
    const codes = [...Object.keys(ERROR_CODES), 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'];
    expect(codes.filter((code) => !firstCells.some((cell) => cell.includes(`\`${code}\``)))).toEqual([]);
  });
});
